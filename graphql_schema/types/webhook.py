"""Webhooks and their delivery log (administrators only)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Self

import strawberry

from db import models
from db.repositories.webhooks import WebhookRepository
from graphql_schema.arguments import After, First
from graphql_schema.context import Info
from graphql_schema.ids import to_global_id
from graphql_schema.types.connections import Connection, build_connection, fetch, page_args
from graphql_schema.types.enums import described
from graphql_schema.types.node import Node


@strawberry.enum(description="Where a delivery stands.")
class WebhookDeliveryStatus(enum.Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


described(
    WebhookDeliveryStatus,
    {
        "PENDING": "Not delivered yet: waiting for its first attempt or for a retry.",
        "SUCCEEDED": "The endpoint answered 2xx.",
        "FAILED": "Out of attempts, or the webhook was disabled (it can be redelivered).",
    },
)


@strawberry.type(description="One try at delivering an event.")
class WebhookAttempt:
    at: datetime = strawberry.field(description="When the request was sent.")
    status_code: int | None = strawberry.field(
        description="The HTTP status the endpoint answered; null if it never answered."
    )
    duration_ms: int = strawberry.field(description="How long the attempt took.")
    error: str | None = strawberry.field(
        description="What went wrong (a status, a timeout, a refused address), if anything."
    )
    response: str | None = strawberry.field(description="The first 1 kB of the answer's body.")

    @classmethod
    def from_model(cls, attempt: models.WebhookAttempt) -> Self:
        return cls(
            at=attempt.at,
            status_code=attempt.status_code,
            duration_ms=attempt.duration_ms,
            error=attempt.error,
            response=attempt.response,
        )


@strawberry.type(description="One event on its way to one webhook, with every attempt.")
class WebhookDelivery(Node):
    status: WebhookDeliveryStatus = strawberry.field(description="Where it stands.")
    created_at: datetime = strawberry.field(description="When the event was queued for it.")
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next attempt is due, while PENDING."
    )
    db_id: strawberry.Private[int]
    event_db_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, delivery: models.WebhookDelivery) -> Self:
        return cls(
            id=strawberry.ID(to_global_id("WebhookDelivery", delivery.id)),
            status=WebhookDeliveryStatus(delivery.status.value),
            created_at=delivery.created_at,
            next_attempt_at=delivery.next_attempt_at,
            db_id=delivery.id,
            event_db_id=delivery.event_id,
        )

    async def _event(self, info: Info) -> models.Event:
        event = await info.context.loaders.event_by_id.load(self.event_db_id)
        assert event is not None  # a delivery's event goes only with the delivery
        return event

    @strawberry.field(description="The event's id: the `webhook-id` header, same on retries.")
    async def event_id(self, info: Info) -> str:
        return (await self._event(info)).public_id

    @strawberry.field(description="The event's type, e.g. post.published.")
    async def event_type(self, info: Info) -> str:
        return (await self._event(info)).type

    @strawberry.field(description="The JSON body sent (the same on every attempt).")
    async def payload(self, info: Info) -> str | None:
        return (await self._event(info)).body

    @strawberry.field(description="Every attempt, oldest first.")
    async def attempts(self, info: Info) -> list[WebhookAttempt]:
        found = await info.context.loaders.attempts_by_delivery_id.load(self.db_id)
        return [WebhookAttempt.from_model(attempt) for attempt in found]


@strawberry.type(description="An endpoint that receives content events (administrators only).")
class Webhook(Node):
    url: str = strawberry.field(description="Where events are POSTed.")
    events: list[str] = strawberry.field(description="The event types it receives.")
    description: str | None = strawberry.field(description="What it is for.")
    enabled: bool = strawberry.field(description="Whether events are sent to it.")
    disabled_reason: str | None = strawberry.field(
        description="Why it was disabled: 410 Gone, failing too long, or an administrator."
    )
    failing_since: datetime | None = strawberry.field(
        description="Since when every attempt has failed; null after a success."
    )
    created_at: datetime = strawberry.field(description="When it was made.")
    updated_at: datetime = strawberry.field(description="When it was last changed.")
    secret_rotated_until: datetime | None = strawberry.field(
        description="Until when the previous secret also signs (after rotateWebhookSecret)."
    )
    db_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, webhook: models.Webhook) -> Self:
        return cls(
            id=strawberry.ID(to_global_id("Webhook", webhook.id)),
            url=webhook.url,
            events=list(webhook.events),
            description=webhook.description,
            enabled=webhook.enabled,
            disabled_reason=webhook.disabled_reason,
            failing_since=webhook.failing_since,
            created_at=webhook.created_at,
            updated_at=webhook.updated_at,
            secret_rotated_until=webhook.previous_secret_until,
            db_id=webhook.id,
        )

    @strawberry.field(description="Its deliveries, newest first.")
    async def deliveries(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        status: Annotated[
            WebhookDeliveryStatus | None, strawberry.argument(description="Only these.")
        ] = None,
    ) -> Connection[WebhookDelivery]:
        args = page_args(first, after)
        wanted = None if status is None else models.DeliveryStatus(status.value)
        db = info.context.db
        async with db.read_sessions() as session:
            page = await fetch(
                WebhookRepository(session).deliveries(self.db_id, args, status=wanted)
            )

        async def count() -> int:
            async with db.read_sessions() as session:
                return await WebhookRepository(session).count_deliveries(self.db_id, status=wanted)

        return build_connection(page, WebhookDelivery.from_model, count)
