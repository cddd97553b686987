"""Commits in this process that changed content: whoever keeps something derived from it (the
response cache's generation) hears of them right after the commit, before the response that
follows is sent. Other processes hear through the database (migration 0010's NOTIFY); this
is what lets a writer read its own write at once.

Content is what moves the content version: the tables of CONTENT_TABLES, changed through the
ORM (objects flushed, or insert/update/delete statements run on a session)."""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from db.models.content_version import CONTENT_TABLES

_CHANGED = "broadsheet.content_changed"
_on_commit: list[Callable[[], None]] = []


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    changed = chain(session.new, session.dirty, session.deleted)
    if any(getattr(row, "__tablename__", None) in CONTENT_TABLES for row in changed):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in CONTENT_TABLES:
            state.session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        for callback in list(_on_commit):
            callback()


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_CHANGED, None)


def on_content_commit(callback: Callable[[], None]) -> None:
    """Call `callback` after each commit in this process that changed content."""
    _on_commit.append(callback)


def off_content_commit(callback: Callable[[], None]) -> None:
    if callback in _on_commit:
        _on_commit.remove(callback)
