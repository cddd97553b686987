"""The dispatcher's statements: events not yet fanned out, deliveries that are due, their
outcomes, scheduled posts whose time has come, and pruning. Only the one runner (see
service.runner) uses them, so they take no row locks beyond what each write needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db import models
from db.models.site_settings import SETTINGS_ROW_ID

Event, Delivery, Webhook = models.Event, models.WebhookDelivery, models.Webhook
PENDING = models.DeliveryStatus.PENDING
SUCCEEDED = models.DeliveryStatus.SUCCEEDED
FAILED = models.DeliveryStatus.FAILED
INSERT_SLICE = 1000  # rows per INSERT (7 parameters each)


@dataclass(frozen=True)
class WorkAhead:
    """What the runner has to do, now or later."""

    events_waiting: bool  # events not fanned out yet
    next_schedule: datetime | None  # the earliest scheduled post or page still to go live
    next_delivery: datetime | None  # the earliest pending delivery's next attempt

    def due(self, now: datetime) -> bool:
        return self.events_waiting or any(
            moment is not None and moment <= now
            for moment in (self.next_schedule, self.next_delivery)
        )


class DeliveryQueue:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def work_ahead(self) -> WorkAhead:
        """In one statement (the runner's look when nothing wakes it)."""
        Post = models.Post
        row = (
            await self.session.execute(
                select(
                    exists().where(Event.dispatched_at.is_(None)),
                    select(func.min(Post.published_at))
                    .where(Post.status == models.PostStatus.SCHEDULED)
                    .scalar_subquery(),
                    select(func.min(Delivery.next_attempt_at))
                    .where(Delivery.status == PENDING)
                    .scalar_subquery(),
                )
            )
        ).one()
        return WorkAhead(bool(row[0]), row[1], row[2])

    # --- fan-out ---------------------------------------------------------------------------

    async def undispatched(self, limit: int, *, lock: bool = False) -> list[models.Event]:
        """The oldest events not fanned out yet; locked (when `lock`), skipping rows another
        runner holds, so that two runners for a moment cannot fan out one event twice."""
        stmt = select(Event).where(Event.dispatched_at.is_(None)).order_by(Event.id).limit(limit)
        if lock:
            stmt = stmt.with_for_update(skip_locked=True)
        return list(await self.session.scalars(stmt))

    async def enabled_webhooks(self) -> list[models.Webhook]:
        return list(await self.session.scalars(select(Webhook).where(Webhook.enabled)))

    async def site_url(self) -> str:
        site = await self.session.get(models.SiteSettings, SETTINGS_ROW_ID)
        return site.url if site is not None else "http://localhost:8000"

    async def add_deliveries(self, rows: list[dict[str, Any]]) -> None:
        # In slices: PostgreSQL takes at most 32,767 parameters in one statement.
        for start in range(0, len(rows), INSERT_SLICE):
            await self.session.execute(insert(Delivery).values(rows[start : start + INSERT_SLICE]))

    # --- sending ---------------------------------------------------------------------------

    async def due(
        self, *, now: datetime, limit: int, skip: Sequence[int], skip_webhooks: Sequence[int] = ()
    ) -> list[tuple[models.WebhookDelivery, models.Event, models.Webhook]]:
        """Pending deliveries whose time has come, each the oldest pending one for its webhook
        and subject (so a resource's events arrive in order), minus those in flight and those
        of `skip_webhooks`."""
        earlier = aliased(Delivery)
        blocked = exists().where(
            earlier.webhook_id == Delivery.webhook_id,
            earlier.subject == Delivery.subject,
            earlier.status == PENDING,
            earlier.id < Delivery.id,
        )
        enabled = exists().where(Webhook.id == Delivery.webhook_id, Webhook.enabled)
        # The choice walks the (status, next_attempt_at, id) index and stops at `limit`; only
        # the chosen rows are joined to their event and webhook, however long the queue.
        chosen = (
            select(Delivery.id)
            .where(
                Delivery.status == PENDING,
                Delivery.next_attempt_at <= now,
                Delivery.id.not_in(skip),
                Delivery.webhook_id.not_in(skip_webhooks),
                enabled,
                ~blocked,
            )
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(limit)
        )
        stmt = (
            select(Delivery, Event, Webhook)
            .join(Event, Event.id == Delivery.event_id)
            .join(Webhook, Webhook.id == Delivery.webhook_id)
            .where(Delivery.id.in_(chosen.scalar_subquery()))
            .order_by(Delivery.next_attempt_at, Delivery.id)
        )
        return [(d, e, w) for d, e, w in await self.session.execute(stmt)]

    async def fail_pending(self, webhook_id: int, *, now: datetime) -> None:
        """A disabled webhook's pending deliveries end as failed (redeliver them later)."""
        await self.session.execute(
            update(Delivery)
            .where(Delivery.webhook_id == webhook_id, Delivery.status == PENDING)
            .values(status=FAILED, finished_at=now)
        )

    # --- scheduling ------------------------------------------------------------------------

    async def due_schedules(
        self, *, now: datetime, limit: int, lock: bool = True
    ) -> list[models.Post]:
        """Scheduled posts and pages whose time has come, locked (when `lock`) so that a
        second runner (there should be none) would skip them rather than announce them twice."""
        stmt = (
            select(models.Post)
            .where(
                models.Post.status == models.PostStatus.SCHEDULED,
                models.Post.published_at <= now,
            )
            .order_by(models.Post.published_at, models.Post.id)
            .limit(limit)
        )
        if lock:
            stmt = stmt.with_for_update(skip_locked=True)
        return list(await self.session.scalars(stmt))

    # --- retention -------------------------------------------------------------------------

    async def prune(self, *, succeeded_before: datetime, failed_before: datetime) -> int:
        """Delete old deliveries (succeeded after a week, failed after a month, by default),
        then events that were dispatched and have no delivery left. Returns events deleted."""
        await self.session.execute(
            delete(Delivery).where(
                ((Delivery.status == SUCCEEDED) & (Delivery.finished_at < succeeded_before))
                | ((Delivery.status == FAILED) & (Delivery.finished_at < failed_before))
            )
        )
        orphan = and_(
            Event.dispatched_at.is_not(None),
            Event.created_at < succeeded_before,
            ~exists().where(Delivery.event_id == Event.id),
        )
        result = await self.session.execute(delete(Event).where(orphan))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
