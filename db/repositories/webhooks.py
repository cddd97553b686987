"""Webhooks and their delivery log as administrators read and change them. Callers check
the policy first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.repositories.pagination import PageArgs, Slice, SortKey, fetch_slice

Webhook, Delivery = models.Webhook, models.WebhookDelivery
WEBHOOK_KEYS = [SortKey("id", Webhook.id, False, kind=int)]
# The delivery log reads newest first.
DELIVERY_KEYS = [SortKey("id", Delivery.id, True, kind=int)]
PENDING, FAILED = models.DeliveryStatus.PENDING, models.DeliveryStatus.FAILED


class WebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, id: int) -> models.Webhook | None:
        return await self.session.get(Webhook, id)

    async def get_for_update(self, id: int) -> models.Webhook | None:
        stmt = select(Webhook).where(Webhook.id == id).with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def add(self, webhook: models.Webhook) -> models.Webhook:
        self.session.add(webhook)
        await self.session.flush()
        return webhook

    async def delete(self, webhook: models.Webhook) -> None:
        # Its deliveries and their attempts go with it (ON DELETE CASCADE).
        await self.session.delete(webhook)
        await self.session.flush()

    async def page(self, args: PageArgs) -> Slice[models.Webhook]:
        return await fetch_slice(self.session, select(Webhook), WEBHOOK_KEYS, args)

    async def count(self) -> int:
        return (await self.session.execute(select(func.count()).select_from(Webhook))).scalar_one()

    # --- the delivery log ------------------------------------------------------------------

    async def delivery(self, id: int) -> models.WebhookDelivery | None:
        return await self.session.get(Delivery, id)

    async def deliveries(
        self, webhook_id: int, args: PageArgs, *, status: models.DeliveryStatus | None
    ) -> Slice[models.WebhookDelivery]:
        stmt = select(Delivery).where(*_delivery_clauses(webhook_id, status))
        return await fetch_slice(self.session, stmt, DELIVERY_KEYS, args)

    async def count_deliveries(
        self, webhook_id: int, *, status: models.DeliveryStatus | None
    ) -> int:
        stmt = select(func.count()).select_from(Delivery)
        return (
            await self.session.execute(stmt.where(*_delivery_clauses(webhook_id, status)))
        ).scalar_one()

    async def deliveries_by_id(self, ids: Sequence[int]) -> list[models.WebhookDelivery]:
        stmt = select(Delivery).where(Delivery.id.in_(ids)).order_by(Delivery.id)
        return list(await self.session.scalars(stmt))

    async def events(self, ids: Sequence[int]) -> dict[int, models.Event]:
        rows = await self.session.scalars(select(models.Event).where(models.Event.id.in_(ids)))
        return {event.id: event for event in rows}

    async def attempts(self, delivery_ids: Sequence[int]) -> dict[int, list[models.WebhookAttempt]]:
        """Each delivery's attempts, oldest first."""
        stmt = (
            select(models.WebhookAttempt)
            .where(models.WebhookAttempt.delivery_id.in_(delivery_ids))
            .order_by(models.WebhookAttempt.id)
        )
        found: dict[int, list[models.WebhookAttempt]] = {id: [] for id in delivery_ids}
        for attempt in await self.session.scalars(stmt):
            found[attempt.delivery_id].append(attempt)
        return found

    async def add_delivery(
        self, webhook: models.Webhook, event: models.Event, *, now: datetime
    ) -> models.WebhookDelivery:
        delivery = Delivery(
            webhook_id=webhook.id,
            event_id=event.id,
            subject=event.subject,
            status=PENDING,
            next_attempt_at=now,
            created_at=now,
        )
        self.session.add(delivery)
        await self.session.flush()
        return delivery

    async def retry(
        self,
        *,
        now: datetime,
        delivery_id: int | None = None,
        webhook_id: int | None = None,
        failed_since: datetime | None = None,
        limit: int,
    ) -> list[int]:
        """Set finished deliveries going again (attempts start over; their log stays): one
        named delivery whatever its outcome, else the failed ones. Returns the ids retried."""
        clauses: list[ColumnElement[bool]] = [Delivery.status != PENDING]
        if delivery_id is not None:
            clauses.append(Delivery.id == delivery_id)
        else:
            clauses.append(Delivery.status == FAILED)
        if webhook_id is not None:
            clauses.append(Delivery.webhook_id == webhook_id)
        if failed_since is not None:
            clauses.append(Delivery.finished_at >= failed_since)
        # Only where the webhook is on: a disabled one's deliveries wait for it.
        clauses.append(Delivery.webhook_id.in_(select(Webhook.id).where(Webhook.enabled)))
        chosen = select(Delivery.id).where(*clauses).order_by(Delivery.id).limit(limit)
        stmt = (
            update(Delivery)
            .where(Delivery.id.in_(chosen.scalar_subquery()))
            .values(status=PENDING, attempt_count=0, next_attempt_at=now, finished_at=None)
            .returning(Delivery.id)
        )
        return list(await self.session.scalars(stmt))


def _delivery_clauses(
    webhook_id: int, status: models.DeliveryStatus | None
) -> list[ColumnElement[bool]]:
    clauses = [Delivery.webhook_id == webhook_id]
    if status is not None:
        clauses.append(Delivery.status == status)
    return clauses
