"""The outbox's write: the events a transaction records are inserted just before it commits,
in one statement, so a rolled-back change emits nothing and a committed one never loses its
event."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from db.base import utcnow
from db.models.event import Event

# What migration 0009's trigger NOTIFYs when events are written (PostgreSQL); the runner
# LISTENs to it.
EVENTS_CHANNEL = "broadsheet_events"
_PENDING = "broadsheet.pending_events"
_WRITTEN = "broadsheet.events_written"
# Called after a commit that wrote events (the runner's nudge, in this process).
_on_commit: list[Callable[[], None]] = []


@dataclass(frozen=True)
class PendingEvent:
    type: str
    subject: str
    data: Mapping[str, Any]
    # Whether a reader of the site can see the change (it then also emits site.changed).
    visible: bool = False
    created_at: datetime = field(default_factory=utcnow)


def record(session: AsyncSession | Session, pending: PendingEvent) -> None:
    """Queue `pending` to be written when `session` commits (and dropped if it rolls back)."""
    session.info.setdefault(_PENDING, []).append(pending)


def new_public_id() -> str:
    """An event's public id: the `webhook-id` receivers deduplicate on."""
    return f"evt_{uuid.uuid4().hex}"


def _rows(pending: list[PendingEvent]) -> list[dict[str, Any]]:
    rows = [
        {
            "public_id": new_public_id(),
            "type": item.type,
            "subject": item.subject,
            "data": dict(item.data),
            "created_at": item.created_at,
        }
        for item in pending
    ]
    visible = [item for item in pending if item.visible]
    if visible:
        # One site.changed per transaction, naming what changed, after the events it sums up.
        # It is about no one resource, so it waits for no other delivery: its subject is its own.
        public_id = new_public_id()
        rows.append(
            {
                "public_id": public_id,
                "type": "site.changed",
                "subject": f"site:{public_id}",
                "data": {"causes": [{"type": i.type, "subject": i.subject} for i in visible]},
                "created_at": visible[-1].created_at,
            }
        )
    return rows


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    pending: list[PendingEvent] | None = session.info.pop(_PENDING, None)
    if pending:
        # Runs inside the async session's greenlet, so the sync API reaches the database.
        session.execute(insert(Event).values(_rows(pending)))
        session.info[_WRITTEN] = True


@event.listens_for(Session, "after_commit")
def _announce(session: Session) -> None:
    if session.info.pop(_WRITTEN, False):
        for callback in list(_on_commit):
            callback()


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_WRITTEN, None)


async def work_queued(session: AsyncSession) -> None:
    """Tell the runner, as written events do, that this transaction queued work without an
    event (a redelivery): this process's at commit, other processes' through NOTIFY."""
    session.info[_WRITTEN] = True
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_notify(EVENTS_CHANNEL, "")))


def on_commit(callback: Callable[[], None]) -> None:
    """Call `callback` after each commit in this process that wrote events (or queued work:
    `work_queued`)."""
    _on_commit.append(callback)


def off_commit(callback: Callable[[], None]) -> None:
    if callback in _on_commit:
        _on_commit.remove(callback)
