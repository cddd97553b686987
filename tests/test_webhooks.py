"""Webhook delivery end to end: mutations through HTTP, the real runner in this process, and
a real HTTP receiver on loopback that checks signatures with the `standardwebhooks` package."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, func, select, text, update
from sqlalchemy.ext.asyncio import create_async_engine
from standardwebhooks import Webhook as Verifier

from db import models
from db.base import utcnow
from db.engine import Database
from graphql_schema.ids import to_global_id
from service.runner import Runner
from service.settings import Settings
from tests.conftest import StatementCounter, make_settings
from tests.factories import create_post
from tests.helpers import graphql_data, until
from tests.receiver import Answer, Received, Receiver, running_receiver

Role = models.Role
FAST = {
    "webhook_allow_private": True,
    "webhook_retry_schedule": (0, 0.2, 0.2, 0.2),
    "events_poll_seconds": 0.05,
    "webhook_timeout_seconds": 2.0,
}


@pytest.fixture
def settings(database_url: str, request: pytest.FixtureRequest) -> Settings:
    """Loopback receivers allowed, and a retry schedule of fractions of a second."""
    return make_settings(database_url, **{**FAST, **getattr(request, "param", {})})


CREATE_WEBHOOK = """mutation($input: CreateWebhookInput!) {
  createWebhook(input: $input) { webhook { id enabled } secret userErrors { field code message } } }"""
PUBLISH = """mutation($id: ID!, $at: DateTime) {
  publishPost(input: {id: $id, publishedAt: $at}) { post { status } userErrors { code } } }"""
UPDATE = """mutation($id: ID!, $title: String) {
  updatePost(input: {id: $id, title: $title}) { post { id } userErrors { code } } }"""
DELIVERIES = """query($id: ID!, $status: WebhookDeliveryStatus) { node(id: $id) { ... on Webhook {
  enabled disabledReason
  deliveries(first: 50, status: $status) { totalCount nodes { id eventId eventType status
    attempts { statusCode durationMs error response } } } } } }"""
ROTATE = """mutation($id: ID!) {
  rotateWebhookSecret(input: {id: $id}) { secret webhook { secretRotatedUntil } userErrors { code } } }"""
TEST = """mutation($id: ID!) { testWebhook(input: {id: $id}) { delivery { id eventType } userErrors { code } } }"""
REDELIVER = """mutation($input: RedeliverWebhookInput!) {
  redeliverWebhook(input: $input) { deliveries { id status } userErrors { code field message } } }"""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
async def runner(app: FastAPI) -> AsyncIterator[Runner]:
    running = Runner(app.state.db, app.state.settings)
    running.start()
    yield running
    await running.stop()


@pytest.fixture
async def admin(as_staff: Any) -> tuple[models.User, dict[str, str]]:
    user, headers = await as_staff(Role.ADMINISTRATOR)
    return user, headers


async def create_webhook(
    client: httpx.AsyncClient, headers: dict[str, str], url: str, events: list[str]
) -> tuple[str, str]:
    data = await graphql_data(
        client, CREATE_WEBHOOK, {"input": {"url": url, "events": events}}, headers=headers
    )
    payload = data["createWebhook"]
    assert payload["userErrors"] == [], payload
    return payload["webhook"]["id"], payload["secret"]


async def deliveries(
    client: httpx.AsyncClient, headers: dict[str, str], id: str, status: str | None = None
) -> dict[str, Any]:
    data = await graphql_data(client, DELIVERIES, {"id": id, "status": status}, headers=headers)
    node: dict[str, Any] = data["node"]
    return node


async def settled(
    client: httpx.AsyncClient, headers: dict[str, str], id: str, within: float = 10.0
) -> dict[str, Any]:
    """The webhook's log once no delivery is PENDING (outcomes are written just after the
    receiver answers)."""
    deadline = time.monotonic() + within
    while True:
        log = await deliveries(client, headers, id)
        pending = [d for d in log["deliveries"]["nodes"] if d["status"] == "PENDING"]
        if not pending or time.monotonic() > deadline:
            # Read once more: the webhook and its deliveries are fields read one after the
            # other, and the outcome may have been committed between the two.
            return await deliveries(client, headers, id)
        await asyncio.sleep(0.05)


def verified(secret: str, request: Received) -> Any:
    return Verifier(secret).verify(request.body, request.headers)


async def test_a_published_post_reaches_the_receiver_signed(
    client: httpx.AsyncClient,
    db: Database,
    admin: Any,
    receiver: Receiver,
    runner: Runner,
) -> None:
    user, headers = admin
    id, secret = await create_webhook(
        client, headers, receiver.url, ["post.published", "site.changed"]
    )
    assert secret.startswith("whsec_")
    post = await create_post(db, "Hello", authors=[user], status=models.PostStatus.DRAFT)
    started = time.monotonic()
    await graphql_data(client, PUBLISH, {"id": to_global_id("Post", post.id)}, headers=headers)
    seen = await receiver.wait_for(lambda r: len(r) == 2)
    assert seen[0].at - started < 2.0
    assert sorted(r.type for r in seen) == ["post.published", "site.changed"]
    published = next(r for r in seen if r.type == "post.published")
    payload = verified(secret, published)  # raises unless the signature is right
    assert payload["data"]["post"]["url"] == "http://localhost:8000/hello/"
    assert payload["data"]["post"]["authors"][0]["slug"] == user.slug
    assert published.headers["content-type"] == "application/json"
    # The log shows both, each with one successful attempt.
    log = await settled(client, headers, id)
    assert log["deliveries"]["totalCount"] == 2
    for delivery in log["deliveries"]["nodes"]:
        assert delivery["status"] == "SUCCEEDED"
        assert [a["statusCode"] for a in delivery["attempts"]] == [200]
        assert delivery["attempts"][0]["response"] == "ok"
    assert {d["eventId"] for d in log["deliveries"]["nodes"]} == {r.id for r in seen}


async def test_failures_are_retried_with_the_same_webhook_id(
    client: httpx.AsyncClient, db: Database, admin: Any, receiver: Receiver, runner: Runner
) -> None:
    user, headers = admin
    receiver.answer = lambda _request, count: Answer(500, body=b"busy") if count < 2 else Answer()
    id, secret = await create_webhook(client, headers, receiver.url, ["post.published"])
    post = await create_post(db, "Retry", authors=[user], status=models.PostStatus.DRAFT)
    await graphql_data(client, PUBLISH, {"id": to_global_id("Post", post.id)}, headers=headers)
    seen = await receiver.wait_for(lambda r: len(r) == 3)
    assert len({r.id for r in seen}) == 1  # one event, one webhook-id, three attempts
    for request in seen:
        verified(secret, request)
    # The schedule's 0.2 s, less its jitter (10%) and the first request's slower start on a
    # loaded machine (CI saw 0.149 s): well above a retry sent at once, a few ms.
    assert seen[1].at - seen[0].at >= 0.1
    [delivery] = (await settled(client, headers, id))["deliveries"]["nodes"]
    assert delivery["status"] == "SUCCEEDED"
    assert [a["statusCode"] for a in delivery["attempts"]] == [500, 500, 200]
    assert delivery["attempts"][0]["error"] == "HTTP 500"
    assert delivery["attempts"][0]["response"] == "busy"


async def test_retry_after_is_honoured(
    client: httpx.AsyncClient, db: Database, admin: Any, receiver: Receiver, runner: Runner
) -> None:
    user, headers = admin
    receiver.answer = lambda _r, count: (
        Answer(429, headers={"Retry-After": "1"}) if count == 0 else Answer()
    )
    await create_webhook(client, headers, receiver.url, ["post.published"])
    post = await create_post(db, "Slow down", authors=[user], status=models.PostStatus.DRAFT)
    await graphql_data(client, PUBLISH, {"id": to_global_id("Post", post.id)}, headers=headers)
    seen = await receiver.wait_for(lambda r: len(r) == 2)
    assert seen[1].at - seen[0].at >= 0.95  # not the schedule's 0.2 s


async def test_an_odd_retry_after_does_not_spoil_a_success(
    client: httpx.AsyncClient, db: Database, admin: Any, receiver: Receiver, runner: Runner
) -> None:
    _, headers = admin
    # "²" passes str.isdigit() but is no number: the answer is still a 200.
    receiver.answer = lambda _r, _count: Answer(200, headers={"Retry-After": "\u00b2"})
    id, _ = await create_webhook(client, headers, receiver.url, ["site.changed"])
    await graphql_data(client, TEST, {"id": id}, headers=headers)
    await receiver.wait_for(lambda r: len(r) == 1)
    [delivery] = (await settled(client, headers, id))["deliveries"]["nodes"]
    assert delivery["status"] == "SUCCEEDED"
    assert [a["statusCode"] for a in delivery["attempts"]] == [200]


@pytest.mark.parametrize("settings", [{"webhook_timeout_seconds": 6.5}], indirect=True)
async def test_a_receiver_may_take_its_time_within_the_timeout(
    client: httpx.AsyncClient, db: Database, admin: Any, receiver: Receiver, runner: Runner
) -> None:
    _, headers = admin
    receiver.answer = lambda _r, _count: Answer(delay=5.5)  # past httpx's own 5 s default
    id, _ = await create_webhook(client, headers, receiver.url, ["site.changed"])
    await graphql_data(client, TEST, {"id": id}, headers=headers)
    await receiver.wait_for(lambda r: len(r) == 1)
    [delivery] = (await settled(client, headers, id))["deliveries"]["nodes"]
    assert [a["statusCode"] for a in delivery["attempts"]] == [200]


async def test_redelivering_a_pending_or_foreign_delivery_says_why(
    client: httpx.AsyncClient, db: Database, admin: Any, receiver: Receiver
) -> None:
    _, headers = admin  # no runner: the test delivery stays PENDING
    id, _ = await create_webhook(client, headers, receiver.url, ["site.changed"])
    other, _ = await create_webhook(client, headers, receiver.url, ["site.changed"])
    sent = await graphql_data(client, TEST, {"id": id}, headers=headers)
    delivery = sent["testWebhook"]["delivery"]["id"]
    pending = await graphql_data(
        client, REDELIVER, {"input": {"deliveryId": delivery}}, headers=headers
    )
    assert [e["code"] for e in pending["redeliverWebhook"]["userErrors"]] == ["INVALID"]
    foreign = await graphql_data(
        client, REDELIVER, {"input": {"deliveryId": delivery, "webhookId": other}}, headers=headers
    )
    [error] = foreign["redeliverWebhook"]["userErrors"]
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["input", "deliveryId"])


async def test_410_disables_the_webhook_and_says_why(
    client: httpx.AsyncClient, db: Database, admin: Any, receiver: Receiver, runner: Runner
) -> None:
    user, headers = admin
    receiver.answer = lambda _r, _count: Answer(410)
    id, _ = await create_webhook(client, headers, receiver.url, ["post.published", "post.updated"])
    post = await create_post(db, "Gone", authors=[user], status=models.PostStatus.DRAFT)
    global_id = to_global_id("Post", post.id)
    await graphql_data(client, PUBLISH, {"id": global_id}, headers=headers)
    await receiver.wait_for(lambda r: len(r) == 1)
    log = await settled(client, headers, id)
    assert log["enabled"] is False
    assert "410" in log["disabledReason"]
    await graphql_data(client, UPDATE, {"id": global_id, "title": "Again"}, headers=headers)
    await asyncio.sleep(0.5)
    assert len(receiver.requests()) == 1  # nothing more goes to it


@pytest.mark.parametrize(
    "settings", [{"webhook_retry_schedule": (0,) + (0.1,) * 50,
                  "webhook_disable_after_seconds": 0.8}], indirect=True
)  # fmt: skip
async def test_an_endpoint_failing_long_enough_is_disabled(
    client: httpx.AsyncClient, db: Database, admin: Any, receiver: Receiver, runner: Runner
) -> None:
    user, headers = admin
    receiver.answer = lambda _r, _count: Answer(503)
    id, _ = await create_webhook(client, headers, receiver.url, ["post.published"])
    post = await create_post(db, "Down", authors=[user], status=models.PostStatus.DRAFT)
    await graphql_data(client, PUBLISH, {"id": to_global_id("Post", post.id)}, headers=headers)
    deadline = time.monotonic() + 10
    while (log := await deliveries(client, headers, id))["enabled"]:
        assert time.monotonic() < deadline, "the webhook was never disabled"
        await asyncio.sleep(0.1)
    assert log["enabled"] is False
    assert log["disabledReason"].startswith("Every delivery failed from")
    assert "HTTP 503" in log["disabledReason"]
    [delivery] = log["deliveries"]["nodes"]
    assert delivery["status"] == "FAILED"
    assert len(delivery["attempts"]) >= 3


async def test_one_posts_events_arrive_in_order(
    client: httpx.AsyncClient, db: Database, admin: Any, receiver: Receiver, runner: Runner
) -> None:
    user, headers = admin
    # The first attempt fails: the later events for the same post must wait for its retry.
    receiver.answer = lambda _r, count: Answer(500) if count == 0 else Answer()
    await create_webhook(client, headers, receiver.url, ["post.published", "post.updated"])
    post = await create_post(db, "Order", authors=[user], status=models.PostStatus.DRAFT)
    global_id = to_global_id("Post", post.id)
    await graphql_data(client, PUBLISH, {"id": global_id}, headers=headers)
    for n in range(3):
        await graphql_data(client, UPDATE, {"id": global_id, "title": f"T{n}"}, headers=headers)
    seen = await receiver.wait_for(lambda r: len(r) == 5)
    delivered = [(r.type, r.payload["data"]["post"]["title"]) for r in seen[1:]]
    assert delivered == [
        ("post.published", "Order"),
        ("post.updated", "T0"),
        ("post.updated", "T1"),
        ("post.updated", "T2"),
    ]


async def test_deleting_a_webhook_mid_delivery_holds_up_no_other(
    client: httpx.AsyncClient, db: Database, admin: Any, receiver: Receiver, runner: Runner
) -> None:
    user, headers = admin
    with running_receiver() as slow:
        slow.answer = lambda _r, _count: Answer(delay=1.0)
        doomed, _ = await create_webhook(client, headers, slow.url, ["post.published"])
        await create_webhook(client, headers, receiver.url, ["post.published"])
        first = await create_post(db, "First", authors=[user], status=models.PostStatus.DRAFT)
        await graphql_data(client, PUBLISH, {"id": to_global_id("Post", first.id)}, headers=headers)
        await slow.wait_for(lambda r: len(r) == 1)  # in flight now
        await graphql_data(
            client,
            "mutation($id: ID!) { deleteWebhook(input: {id: $id}) { deletedId } }",
            {"id": doomed},
            headers=headers,
        )
        await asyncio.sleep(1.2)  # its outcome comes back for a delivery that is gone
        second = await create_post(db, "Second", authors=[user], status=models.PostStatus.DRAFT)
        await graphql_data(
            client, PUBLISH, {"id": to_global_id("Post", second.id)}, headers=headers
        )
        seen = await receiver.wait_for(lambda r: len(r) == 2)
    assert [r.payload["data"]["post"]["title"] for r in seen] == ["First", "Second"]


@pytest.mark.parametrize("settings", [{"webhook_concurrency": 2}], indirect=True)
async def test_a_slow_webhook_leaves_room_for_the_others(
    client: httpx.AsyncClient, db: Database, admin: Any, receiver: Receiver, runner: Runner
) -> None:
    user, headers = admin
    with running_receiver() as slow:
        slow.answer = lambda _r, _count: Answer(delay=1.5)
        await create_webhook(client, headers, slow.url, ["site.changed"])
        await create_webhook(client, headers, receiver.url, ["site.changed"])
        started = time.monotonic()
        for n in range(3):
            post = await create_post(db, f"P{n}", authors=[user], status=models.PostStatus.DRAFT)
            await graphql_data(
                client, PUBLISH, {"id": to_global_id("Post", post.id)}, headers=headers
            )
        seen = await receiver.wait_for(lambda r: len(r) == 3)
        # Of two slots the slow one holds at most one: the other three went meanwhile.
        assert seen[-1].at - started < 1.4
        assert len(slow.requests()) == 1


async def test_after_rotation_both_secrets_verify(
    client: httpx.AsyncClient, db: Database, admin: Any, receiver: Receiver, runner: Runner
) -> None:
    user, headers = admin
    id, old = await create_webhook(client, headers, receiver.url, ["post.published"])
    rotated = (await graphql_data(client, ROTATE, {"id": id}, headers=headers))[
        "rotateWebhookSecret"
    ]
    new = rotated["secret"]
    assert new != old
    assert new.startswith("whsec_")
    assert rotated["webhook"]["secretRotatedUntil"] is not None
    post = await create_post(db, "Rotated", authors=[user], status=models.PostStatus.DRAFT)
    await graphql_data(client, PUBLISH, {"id": to_global_id("Post", post.id)}, headers=headers)
    [request] = await receiver.wait_for(lambda r: len(r) == 1)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    verified(old, request)
    verified(new, request)
    with pytest.raises(Exception, match="No matching signature"):
        verified("whsec_" + "A" * 43 + "=", request)


async def test_a_test_event_and_redelivery(
    client: httpx.AsyncClient, db: Database, admin: Any, receiver: Receiver, runner: Runner
) -> None:
    _, headers = admin
    receiver.answer = lambda _r, _count: Answer(500)
    id, secret = await create_webhook(client, headers, receiver.url, ["site.changed"])
    sent = (await graphql_data(client, TEST, {"id": id}, headers=headers))["testWebhook"]
    assert sent["delivery"]["eventType"] == "webhook.test"
    await receiver.wait_for(lambda r: len(r) == 4)  # the whole (compressed) schedule
    await settled(client, headers, id)
    failed = await deliveries(client, headers, id, "FAILED")
    assert failed["deliveries"]["totalCount"] == 1
    assert len(failed["deliveries"]["nodes"][0]["attempts"]) == 4
    # The receiver is mended; the administrator sends the failed ones again.
    receiver.answer = lambda _r, _count: Answer()
    since = (utcnow() - timedelta(minutes=5)).isoformat()
    again = await graphql_data(
        client, REDELIVER, {"input": {"webhookId": id, "failedSince": since}}, headers=headers
    )
    assert [d["status"] for d in again["redeliverWebhook"]["deliveries"]] == ["PENDING"]
    seen = await receiver.wait_for(lambda r: len(r) == 5)
    assert len({r.id for r in seen}) == 1  # the same webhook-id all along
    assert verified(secret, seen[-1])["type"] == "webhook.test"
    # One delivery by id, even a successful one.
    await settled(client, headers, id)
    [delivery] = (await deliveries(client, headers, id, "SUCCEEDED"))["deliveries"]["nodes"]
    await graphql_data(
        client, REDELIVER, {"input": {"deliveryId": delivery["id"]}}, headers=headers
    )
    await receiver.wait_for(lambda r: len(r) == 6)


async def test_redirects_are_not_followed_and_slow_answers_time_out(
    client: httpx.AsyncClient, db: Database, admin: Any, receiver: Receiver, runner: Runner
) -> None:
    _, headers = admin
    receiver.answer = lambda request, count: (
        Answer(302, headers={"Location": "http://127.0.0.1:9/elsewhere"})
        if count == 0
        else Answer(delay=3.0)
    )
    id, _ = await create_webhook(client, headers, receiver.url, ["site.changed"])
    await graphql_data(client, TEST, {"id": id}, headers=headers)
    await receiver.wait_for(lambda r: len(r) == 2)
    deadline = time.monotonic() + 10
    attempts: list[dict[str, Any]] = []
    while len(attempts) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        attempts = (await deliveries(client, headers, id))["deliveries"]["nodes"][0]["attempts"]
    assert attempts[0]["statusCode"] == 302
    assert attempts[0]["error"] == "HTTP 302"
    assert attempts[1]["statusCode"] is None
    assert attempts[1]["error"] == "No answer within 2 s."
    assert 1900 <= attempts[1]["durationMs"] < 2900


async def test_a_scheduled_post_announces_itself_exactly_once(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: Database,
    admin: Any,
    receiver: Receiver,
    runner: Runner,
) -> None:
    user, headers = admin
    await create_webhook(client, headers, receiver.url, ["post.published", "site.changed"])
    # A second runner, as another worker would have: the lock keeps it idle.
    second = Runner(db, app.state.settings)
    second.start()
    try:
        post = await create_post(db, "Soon", authors=[user], status=models.PostStatus.DRAFT)
        when = (utcnow() + timedelta(seconds=1)).isoformat()
        published = await graphql_data(
            client, PUBLISH, {"id": to_global_id("Post", post.id), "at": when}, headers=headers
        )
        assert published["publishPost"]["post"]["status"] == "SCHEDULED"
        seen = await receiver.wait_for(lambda r: len(r) == 2, within=10)
        await asyncio.sleep(1.0)  # anything more would arrive by now
    finally:
        await second.stop()
    assert sorted(r.type for r in receiver.requests()) == ["post.published", "site.changed"]
    assert second.leading is False
    async with db.read_sessions() as session:
        stored = await session.get(models.Post, post.id)
        announced = await session.scalar(
            select(func.count()).where(models.Event.type == "post.published")
        )
    assert stored is not None
    assert stored.status is models.PostStatus.PUBLISHED
    assert announced == 1
    [went_live] = [r for r in seen if r.type == "post.published"]
    assert went_live.payload["data"]["post"]["status"] == "PUBLISHED"


@pytest.mark.parametrize("settings", [{"events_poll_seconds": 30}], indirect=True)
async def test_events_written_elsewhere_wake_the_runner_on_postgresql(
    client: httpx.AsyncClient,
    admin: Any,
    receiver: Receiver,
    runner: Runner,
    database_url: str,
) -> None:
    """An event committed by another process (here: a plain INSERT on another engine, which
    nudges nothing in this one) reaches the runner by NOTIFY, long before its next poll."""
    if not database_url.startswith("postgresql"):
        pytest.skip("NOTIFY is PostgreSQL's; SQLite serves one host, whose runner is nudged")
    _, headers = admin
    await create_webhook(client, headers, receiver.url, ["post.updated"])
    await asyncio.sleep(0.5)  # the runner has taken the lock and listens
    other = create_async_engine(database_url)
    try:
        async with other.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO events (public_id, type, subject, data, created_at) VALUES "
                    "('evt_elsewhere', 'post.updated', 'post:1', '{}', now())"
                )
            )
        started = time.monotonic()
        [request] = await receiver.wait_for(lambda r: len(r) == 1, within=10)
    finally:
        await other.dispose()
    assert request.id == "evt_elsewhere"
    assert request.at - started < 3  # not the 30 s poll


async def test_old_deliveries_are_pruned(
    client: httpx.AsyncClient, db: Database, admin: Any, receiver: Receiver, settings: Settings
) -> None:
    _, headers = admin
    id, _ = await create_webhook(client, headers, receiver.url, ["site.changed"])
    for _ in range(3):
        await graphql_data(client, TEST, {"id": id}, headers=headers)
    long_ago = utcnow() - timedelta(days=8)
    ages = {1: long_ago, 2: utcnow() - timedelta(days=31), 3: long_ago}
    statuses = {1: "succeeded", 2: "failed", 3: "failed"}
    async with db.write_sessions.begin() as session:
        for delivery_id, finished in ages.items():
            await session.execute(
                update(models.WebhookDelivery)
                .where(models.WebhookDelivery.id == delivery_id)
                .values(status=models.DeliveryStatus(statuses[delivery_id]), finished_at=finished)
            )
        await session.execute(update(models.Event).values(created_at=long_ago))
    runner = Runner(db, settings)
    await runner.prune()
    await runner.dispatcher.close()
    async with db.read_sessions() as session:
        left = list(await session.scalars(select(models.WebhookDelivery.id)))
        events = await session.scalar(select(func.count()).select_from(models.Event))
    # Succeeded after 7 days and failed after 30 go; a failure 8 days old stays.
    assert left == [3]
    assert events == 1


async def test_an_idle_runner_looks_for_work_cheaply(app: FastAPI, runner: Runner) -> None:
    """Nothing to do: a look is one statement (and, on PostgreSQL, its lock's liveness
    check), not a query per kind of work; and where PostgreSQL tells of new work, looks are
    seconds apart instead of every poll (50 ms here)."""
    engine = app.state.db.engine.sync_engine
    counter = StatementCounter()
    # Past the first tick (leadership, the first look, pruning): its last step is the prune,
    # which on a loaded machine came after a fixed 0.2 s once.
    started = runner.last_pruned
    await until(lambda: runner.last_pruned != started, seconds=10)
    event.listen(engine, "before_cursor_execute", counter)
    try:
        await asyncio.sleep(0.5)
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    looks = [s for s in counter.statements if "min(webhook_deliveries.next_attempt_at)" in s]
    others = [s for s in counter.statements if s not in looks and s.strip() != "SELECT 1"]
    assert others == []
    if app.state.db.dialect == "postgresql":
        assert len(looks) <= 1
        assert runner.leading  # it runs, and its next look is seconds away, not a poll
        assert runner.next_look - time.monotonic() > 1
    else:
        assert len(looks) >= 3
