"""Webhooks as administrators manage them: targets checked (and resolved) when saved,
secrets made here and shown once, rotation with an overlap, test events and redelivery."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db import models, outbox
from db.base import utcnow
from db.outbox import new_public_id
from db.repositories.webhooks import WebhookRepository
from service import events
from service.dispatch import body
from service.errors import Forbidden, InvalidInput, NotFound
from service.policy import Viewer, may_manage_webhooks
from service.validation import MAX_URL, Checker
from service.webhook_targets import TargetRefused, resolve

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
MAX_DESCRIPTION = 500
MAX_REDELIVERED = 1000


@dataclass(frozen=True)
class TargetRules:
    """What a webhook URL may be, from the settings."""

    allow_http: bool  # plain http outside production
    allow_private: bool  # BROADSHEET_WEBHOOK_ALLOW_PRIVATE
    secret_overlap: timedelta  # how long the old secret still signs after a rotation


def check_may_manage(actor: Viewer) -> None:
    if not may_manage_webhooks(actor):
        raise Forbidden("Only administrators manage webhooks.")


def new_secret() -> str:
    """A Standard Webhooks secret: whsec_ and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


async def _check_url(check: Checker, url: str, rules: TargetRules) -> str:
    cleaned = check.text("url", url, max_length=MAX_URL, required=True)
    if cleaned is None or check.problems:
        return url
    try:
        await resolve(cleaned, allow_http=rules.allow_http, allow_private=rules.allow_private)
    except TargetRefused as refused:
        check.problem("url", str(refused))
    return cleaned


def _check_events(check: Checker, names: Sequence[str]) -> list[str]:
    chosen = list(dict.fromkeys(name.strip() for name in names))
    unknown = [name for name in chosen if name not in events.SUBSCRIBABLE]
    if not chosen:
        check.problem("events", "Choose at least one event.", "REQUIRED")
    for name in unknown[:5]:
        index = str(list(names).index(name)) if name in names else "0"
        check.problem(
            ["events", index],
            f"Unknown event {name[:60]!r}; choose from: {', '.join(events.SUBSCRIBABLE)}.",
        )
    return chosen


async def create(
    session: AsyncSession,
    *,
    url: str,
    event_names: Sequence[str],
    description: str | None,
    rules: TargetRules,
) -> tuple[models.Webhook, str]:
    """A new webhook and its secret (shown to the caller this once)."""
    check = Checker()
    url = await _check_url(check, url, rules)
    chosen = _check_events(check, event_names)
    text = check.text("description", description, max_length=MAX_DESCRIPTION)
    check.raise_if_any()
    now = utcnow()
    secret = new_secret()
    webhook = models.Webhook(
        url=url,
        events=chosen,
        description=text,
        secret=secret,
        enabled=True,
        created_at=now,
        updated_at=now,
    )
    return await WebhookRepository(session).add(webhook), secret


async def update(
    session: AsyncSession,
    id: int,
    *,
    url: str | None,
    event_names: Sequence[str] | None,
    description: str | None,
    clear_description: bool,
    enabled: bool | None,
    rules: TargetRules,
) -> models.Webhook:
    webhook = await WebhookRepository(session).get_for_update(id)
    if webhook is None:
        raise NotFound
    check = Checker()
    if url is not None:
        webhook.url = await _check_url(check, url, rules)
    if event_names is not None:
        webhook.events = _check_events(check, event_names)
    if description is not None or clear_description:
        webhook.description = check.text("description", description, max_length=MAX_DESCRIPTION)
    check.raise_if_any()
    if enabled is True and not webhook.enabled:
        # Switched back on: the failure clock starts again. Deliveries that failed can be
        # redelivered; events that happened while it was off were never queued for it.
        webhook.disabled_reason, webhook.failing_since = None, None
    if enabled is False and webhook.enabled:
        webhook.disabled_reason = "Disabled by an administrator."
    if enabled is not None:
        webhook.enabled = enabled
    webhook.updated_at = utcnow()
    await session.flush()
    return webhook


async def delete(session: AsyncSession, id: int) -> None:
    repository = WebhookRepository(session)
    webhook = await repository.get_for_update(id)
    if webhook is None:
        raise NotFound
    await repository.delete(webhook)


async def rotate_secret(
    session: AsyncSession, id: int, *, rules: TargetRules
) -> tuple[models.Webhook, str]:
    """A new secret; the old one keeps signing too (a second signature) for the overlap, so
    receivers can switch without losing a delivery."""
    webhook = await WebhookRepository(session).get_for_update(id)
    if webhook is None:
        raise NotFound
    now = utcnow()
    secret = new_secret()
    webhook.previous_secret, webhook.secret = webhook.secret, secret
    webhook.previous_secret_until = now + rules.secret_overlap
    webhook.updated_at = now
    await session.flush()
    return webhook, secret


async def send_test(session: AsyncSession, id: int) -> models.WebhookDelivery:
    """A webhook.test event for this one webhook, delivered like any other."""
    repository = WebhookRepository(session)
    webhook = await repository.get(id)
    if webhook is None:
        raise NotFound
    if not webhook.enabled:
        raise InvalidInput.one(
            "This webhook is disabled; enable it (updateWebhook) to send it a test event.",
            field=["id"],
        )
    now = utcnow()
    event = models.Event(
        public_id=new_public_id(),
        type=events.TEST_EVENT,
        subject=f"webhook:{webhook.id}",
        data=events.test_event(webhook.id),
        created_at=now,
        dispatched_at=now,  # made here for this webhook alone, not fanned out
    )
    session.add(event)
    await session.flush()
    event.body = body(event, event.data)
    return await repository.add_delivery(webhook, event, now=now)


async def redeliver(
    session: AsyncSession,
    *,
    delivery_id: int | None,
    webhook_id: int | None,
    failed_since: datetime | None,
) -> list[models.WebhookDelivery]:
    """Send again: one delivery (whatever came of it, with the same webhook-id), or the
    failed ones of a webhook, or of all webhooks, since a time: at most MAX_REDELIVERED at
    once, oldest first (call again for the rest)."""
    if delivery_id is None and webhook_id is None and failed_since is None:
        raise InvalidInput.one(
            "Name a delivery, a webhook, or a time to redeliver failed deliveries since.",
            code="REQUIRED",
            field=["deliveryId"],
        )
    repository = WebhookRepository(session)
    if delivery_id is not None:
        named = await repository.delivery(delivery_id)
        if named is None or webhook_id not in (None, named.webhook_id):
            raise InvalidInput.one(
                "No such delivery (of this webhook).", code="NOT_FOUND", field=["deliveryId"]
            )
        if named.status is models.DeliveryStatus.PENDING:
            raise InvalidInput.one(
                "This delivery is still waiting to be sent; it will be, by itself.",
                field=["deliveryId"],
            )
        webhook_id = named.webhook_id
    if webhook_id is not None:
        webhook = await repository.get(webhook_id)
        if webhook is None:
            raise InvalidInput.one("No such webhook.", code="NOT_FOUND", field=["webhookId"])
        if not webhook.enabled:
            raise InvalidInput.one(
                "This webhook is disabled; enable it (updateWebhook) before redelivering.",
                field=["webhookId"],
            )
    ids = await repository.retry(
        now=utcnow(),
        delivery_id=delivery_id,
        webhook_id=webhook_id,
        failed_since=failed_since,
        limit=MAX_REDELIVERED,
    )
    if ids:
        await outbox.work_queued(session)  # no event to tell the runner: say so
    return await repository.deliveries_by_id(ids)
