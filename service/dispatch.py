"""The dispatcher: turns committed events into deliveries (one per subscribed webhook),
sends the due ones with bounded concurrency, and writes down each attempt's outcome: success,
a retry on the schedule (with jitter, and no sooner than a Retry-After asks), or failure.
A webhook that answers 410, or fails for long enough, is disabled with its reason.

Delivery is at least once: a delivery stays PENDING until an outcome is recorded, so a
process killed mid-send leaves it to be sent again, with the same `webhook-id`."""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.base import utcnow
from db.engine import Database
from db.repositories.content_writer import linked_slugs
from db.repositories.deliveries import DeliveryQueue
from service import delivery, events
from service.delivery import Outcome
from service.site_settings import content_url

log = logging.getLogger(__name__)

FAN_OUT_BATCH = 500
JITTER = 0.1  # each retry delay is moved by up to ±10%


@dataclass(frozen=True)
class DispatchSettings:
    retry_schedule: tuple[float, ...]
    timeout: float
    concurrency: int
    disable_after: timedelta
    allow_http: bool
    allow_private: bool


def body(event: models.Event, data: dict[str, Any]) -> str:
    """The payload every delivery of `event` sends: {type, timestamp, data}."""
    payload = {"type": event.type, "timestamp": event.created_at.isoformat(), "data": data}
    return orjson.dumps(payload).decode()


@dataclass(frozen=True)
class _Result:
    delivery_id: int
    webhook_id: int
    at: datetime
    outcome: Outcome


class Dispatcher:
    def __init__(self, db: Database, settings: DispatchSettings) -> None:
        self.db = db
        self.settings = settings
        # One client per origin: requests go to the resolved address, so a shared pool would
        # hand one host's TLS connection (its certificate checked for that name) to another
        # host on the same address.
        self.clients: dict[str, httpx.AsyncClient] = {}
        # Deliveries sent or being sent whose outcome is not written yet (never picked twice).
        self.in_flight: set[int] = set()
        self.sending = 0  # requests on the wire: the concurrency bound counts these
        self.per_webhook: Counter[int] = Counter()  # the same, per webhook
        # Half the slots at most for one webhook, so a slow one cannot hold up the others.
        self.webhook_share = max(1, settings.concurrency // 2)
        self.tasks: set[asyncio.Task[None]] = set()
        self.results: list[_Result] = []
        # Set when an attempt finishes, so the runner records it without waiting for a poll.
        self.progress = asyncio.Event()

    def client_for(self, url: str) -> httpx.AsyncClient:
        parts = httpx.URL(url)
        origin = f"{parts.scheme}://{parts.host}:{parts.port}"
        if origin not in self.clients:
            self.clients[origin] = httpx.AsyncClient(
                follow_redirects=False,
                trust_env=False,  # no proxy from the environment sees the payloads
                limits=httpx.Limits(max_connections=self.settings.concurrency),
                timeout=httpx.Timeout(self.settings.timeout),  # httpx's own default is 5 s
            )
        return self.clients[origin]

    async def close(self) -> None:
        """Stop sending; what was in flight stays PENDING and is sent again later."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for client in self.clients.values():
            await client.aclose()

    # --- events → deliveries ---------------------------------------------------------------

    async def fan_out(self) -> int:
        """Give the oldest undispatched events their finished body and their deliveries."""
        async with self.db.read_sessions() as session:
            if not await DeliveryQueue(session).undispatched(1):
                return 0
        now = utcnow()
        first_attempt = now + timedelta(seconds=self.settings.retry_schedule[0])
        async with self.db.write_sessions.begin() as session:
            queue = DeliveryQueue(session)
            batch = await queue.undispatched(FAN_OUT_BATCH, lock=True)
            webhooks = await queue.enabled_webhooks()
            data = await self._complete(queue, batch)
            rows: list[dict[str, Any]] = []
            for event in batch:
                event.body = body(event, data[event.id])
                event.dispatched_at = now
                rows.extend(
                    {
                        "webhook_id": webhook.id,
                        "event_id": event.id,
                        "subject": event.subject,
                        "status": models.DeliveryStatus.PENDING,
                        "attempt_count": 0,
                        "next_attempt_at": first_attempt,
                        "created_at": now,
                    }
                    for webhook in webhooks
                    if event.type in webhook.events
                )
            await queue.add_deliveries(rows)
        return len(batch)

    async def _complete(
        self, queue: DeliveryQueue, batch: list[models.Event]
    ) -> dict[int, dict[str, Any]]:
        """Each event's data with what the change did not know: a post's URL, its tags and
        authors as they are now (a deleted one's were named when it was deleted), and so the
        cache tags it purges."""
        post_ids = []
        for event in batch:
            subject = events.content_subject(event.subject)
            if subject is not None:
                post_ids.append(subject[1])
        site_url = await queue.site_url()
        tags, authors = await linked_slugs(queue.session, post_ids) if post_ids else ({}, {})
        # A post deleted since: its earlier events take the links its deletion named.
        named_at_deletion = {
            event.subject: event.data[event.type.partition(".")[0]]
            for event in batch
            if event.type.endswith(".deleted") and events.content_subject(event.subject)
        }
        completed = {}
        for event in batch:
            data = dict(event.data)
            subject = events.content_subject(event.subject)
            if subject is not None and subject[0] in data:
                kind, id = subject
                entry = dict(data[kind])
                entry["url"] = content_url(site_url, entry["slug"])
                if not event.type.endswith(".deleted"):
                    entry.update(events.linked(tags.get(id, []), authors.get(id, [])))
                    if event.subject in named_at_deletion and not (tags[id] or authors[id]):
                        gone = named_at_deletion[event.subject]
                        entry.update(tags=gone["tags"], authors=gone["authors"])
                data[kind] = entry
                if "cacheTags" not in data:
                    data["cacheTags"] = events.content_cache_tags(
                        event.type, entry, data.get("changed", ())
                    )
            completed[event.id] = data
        return completed

    # --- sending ---------------------------------------------------------------------------

    async def start_due(self) -> int:
        """Start sending the due deliveries, as many as the concurrency bound allows."""
        free = self.settings.concurrency - self.sending
        if free <= 0:
            return 0
        # A webhook with its share of the slots in use waits; the others go meanwhile.
        full = [id for id, count in self.per_webhook.items() if count >= self.webhook_share]
        async with self.db.read_sessions() as session:
            due = await DeliveryQueue(session).due(
                now=utcnow(), limit=free, skip=sorted(self.in_flight), skip_webhooks=full
            )
        started = 0
        for pending, event, webhook in due:
            if self.per_webhook[webhook.id] >= self.webhook_share:
                continue
            started += 1
            self.per_webhook[webhook.id] += 1
            self.in_flight.add(pending.id)
            self.sending += 1
            task = asyncio.create_task(self._attempt(pending, event, webhook))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return started

    async def _attempt(
        self, pending: models.WebhookDelivery, event: models.Event, webhook: models.Webhook
    ) -> None:
        at = utcnow()
        secrets = [webhook.secret]
        until = webhook.previous_secret_until
        if webhook.previous_secret and until is not None and until > at:
            secrets.append(webhook.previous_secret)
        try:
            outcome = await delivery.send(
                self.client_for(webhook.url),
                url=webhook.url,
                message_id=event.public_id,
                body=event.body or body(event, event.data),
                secrets=secrets,
                time_limit=self.settings.timeout,
                allow_http=self.settings.allow_http,
                allow_private=self.settings.allow_private,
            )
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # Whatever went wrong is this attempt's failure: the delivery must not be left
            # in flight for ever, holding up the events after it.
            log.exception("webhook %s: the attempt failed unexpectedly", webhook.id)
            outcome = Outcome(None, 0, error=f"Could not send: {type(error).__name__}.")
        finally:
            self.sending -= 1
            self.per_webhook[webhook.id] -= 1
        self.results.append(_Result(pending.id, webhook.id, at, outcome))
        self.progress.set()

    async def record(self) -> int:
        """Write down every finished attempt, in one transaction."""
        results, self.results = self.results, []
        if not results:
            return 0
        try:
            async with self.db.write_sessions.begin() as session:
                if self.db.dialect == "postgresql":
                    # Bookkeeping: should the last outcomes be lost in a crash, those
                    # deliveries are sent again (at least once still holds), so this commit
                    # need not wait for the disk.
                    await session.execute(text("SET LOCAL synchronous_commit = off"))
                await self._record(session, results)
        except BaseException:
            self.results = results + self.results  # written next time instead
            raise
        for result in results:
            self.in_flight.discard(result.delivery_id)
        return len(results)

    async def _record(self, session: AsyncSession, results: list[_Result]) -> None:
        Delivery, Webhook = models.WebhookDelivery, models.Webhook
        delivery_ids = [r.delivery_id for r in results]
        found_deliveries = await session.scalars(
            select(Delivery).where(Delivery.id.in_(delivery_ids))
        )
        deliveries = {d.id: d for d in found_deliveries}
        webhook_ids = {r.webhook_id for r in results}
        found_webhooks = await session.scalars(select(Webhook).where(Webhook.id.in_(webhook_ids)))
        webhooks = {w.id: w for w in found_webhooks}
        disabled = []
        for result in results:
            outcome = result.outcome
            pending, webhook = deliveries.get(result.delivery_id), webhooks.get(result.webhook_id)
            if pending is None or webhook is None:
                continue  # deleted with its webhook meanwhile: nothing to write down
            session.add(
                models.WebhookAttempt(
                    delivery_id=result.delivery_id,
                    at=result.at,
                    status_code=outcome.status_code,
                    duration_ms=outcome.duration_ms,
                    error=outcome.error,
                    response=outcome.response,
                )
            )
            pending.attempt_count += 1
            if pending.status is not models.DeliveryStatus.PENDING:
                continue
            reason = self._judge(pending, webhook, result)
            if reason is not None and webhook.enabled:
                webhook.enabled = False
                webhook.disabled_reason = reason
                disabled.append(webhook.id)
                log.warning("webhook %s disabled: %s", webhook.id, reason)
        await session.flush()
        for webhook_id in disabled:
            await DeliveryQueue(session).fail_pending(webhook_id, now=utcnow())

    def _judge(
        self, pending: models.WebhookDelivery, webhook: models.Webhook, result: _Result
    ) -> str | None:
        """Set the delivery's next state; return why the webhook must be disabled, if so."""
        outcome, at = result.outcome, result.at
        if outcome.succeeded:
            pending.status = models.DeliveryStatus.SUCCEEDED
            pending.finished_at, pending.next_attempt_at = at, None
            webhook.failing_since = None
            return None
        if outcome.gone:
            pending.status = models.DeliveryStatus.FAILED
            pending.finished_at, pending.next_attempt_at = at, None
            return f"The endpoint answered 410 Gone at {at.isoformat()}: it asked to be removed."
        webhook.failing_since = webhook.failing_since or at
        schedule = self.settings.retry_schedule
        if pending.attempt_count < len(schedule):
            delay = schedule[pending.attempt_count] * random.uniform(1 - JITTER, 1 + JITTER)
            delay = max(delay, outcome.retry_after or 0.0)
            pending.next_attempt_at = at + timedelta(seconds=delay)
        else:
            pending.status = models.DeliveryStatus.FAILED
            pending.finished_at, pending.next_attempt_at = at, None
        if at - webhook.failing_since >= self.settings.disable_after:
            return (
                f"Every delivery failed from {webhook.failing_since.isoformat()} to "
                f"{at.isoformat()}; the last: {outcome.error or 'no answer'}."
            )
        return None
