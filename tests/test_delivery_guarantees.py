"""At-least-once delivery under kill -9, and once per event with several workers: real
server processes (uvicorn) on the test database, a real receiver, and counting."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from db import models
from db.engine import Database
from graphql_schema.ids import to_global_id
from service.tokens import digest
from tests.factories import create_post, create_user
from tests.live_server import REPOSITORY, free_port
from tests.receiver import Answer, Receiver, running_receiver

ADMIN_KEY = "bsk_guarantees_admin"
KILLS = 10
CREATE_WEBHOOK = """mutation($url: String!) {
  createWebhook(input: {url: $url, events: ["post.updated", "site.changed"]}) {
    secret userErrors { message } } }"""
UPDATE = """mutation($id: ID!, $title: String!) {
  updatePost(input: {id: $id, title: $title}) { userErrors { code } } }"""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        # A little slow, so that kills land while deliveries are in flight.
        receiver.answer = lambda _r, _count: Answer(delay=0.02)
        yield receiver


@pytest.fixture
async def posts(database_url: str) -> AsyncIterator[list[str]]:
    """An owner, an ADMIN API key, and five published posts to edit."""
    db = Database.connect(database_url)
    try:
        owner = await create_user(db, role=models.Role.OWNER)
        async with db.write_sessions.begin() as session:
            session.add(
                models.ApiKey(
                    name="guarantees",
                    scope=models.ApiKeyScope.ADMIN,
                    key_hash=digest(ADMIN_KEY),
                    prefix="bsk_guar",
                )
            )
        created = [await create_post(db, f"Post {n}", authors=[owner]) for n in range(5)]
        yield [to_global_id("Post", post.id) for post in created]
    finally:
        await db.dispose()


@contextmanager
def server(database_url: str, workdir: Path, *, workers: int = 1) -> Iterator[str]:
    """A Broadsheet server process on a free port; killed (if still alive) afterwards."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("BROADSHEET_")}
    env.update(
        BROADSHEET_DATABASE_URL=database_url,
        BROADSHEET_SECRET_KEY="k" * 48,
        BROADSHEET_WEBHOOK_ALLOW_PRIVATE="true",
        BROADSHEET_EVENTS_POLL_SECONDS="0.05",
        BROADSHEET_WEBHOOK_RETRY_SCHEDULE="0,0.2,0.5,1,1,1,1,1,1,1,1,1,1,1,1",
        PYTHONPATH=str(REPOSITORY),
    )
    command = [
        sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
        "--workers", str(workers),
    ]  # fmt: skip
    log = (workdir / f"server-{port}.log").open("wb")
    process = subprocess.Popen(
        command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (workdir / f"server-{port}.log").read_text()
            try:
                if httpx.get(f"{url}/healthcheck", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server never became ready"
            time.sleep(0.05)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # the whole group: workers too
        process.wait()
        log.close()


async def graphql(url: str, query: str, variables: dict[str, str]) -> dict[str, object]:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            f"{url}/graphql",
            json={"query": query, "variables": variables},
            headers={"X-Api-Key": ADMIN_KEY},
        )
    body: dict[str, object] = response.json()
    return body


async def stored_event_ids(database_url: str) -> set[str]:
    """Every event committed to the outbox (the ones that must be delivered)."""
    db = Database.connect(database_url)
    try:
        async with db.read_sessions() as session:
            rows = await session.scalars(select(models.Event.public_id))
            return set(rows)
    finally:
        await db.dispose()


async def edit_continuously(urls: list[str], posts: list[str], stop: asyncio.Event) -> int:
    """Edit posts until told to stop; return how many edits were answered."""
    answered = 0
    n = 0
    while not stop.is_set():
        n += 1
        try:
            await graphql(
                urls[n % len(urls)], UPDATE, {"id": posts[n % len(posts)], "title": f"Edit {n}"}
            )
            answered += 1
        except httpx.HTTPError:
            await asyncio.sleep(0.02)  # the server is down: its restart is coming
    return answered


async def test_kill_9_loses_no_event(
    database_url: str, posts: list[str], receiver: Receiver, tmp_path: Path
) -> None:
    rng = random.Random(20261202)
    with server(database_url, tmp_path) as url:
        created = await graphql(url, CREATE_WEBHOOK, {"url": receiver.url})
        assert created["data"]["createWebhook"]["userErrors"] == []  # type: ignore[index]
    for _ in range(KILLS):
        with server(database_url, tmp_path) as url:
            stop = asyncio.Event()
            editing = asyncio.create_task(edit_continuously([url], posts, stop))
            await asyncio.sleep(rng.uniform(0.2, 1.5))
            # The context manager's exit is the kill -9, mid-stream.
        stop.set()
        await editing
    # One last server, left to finish: every committed event must arrive.
    with server(database_url, tmp_path):
        expected = await stored_event_ids(database_url)
        assert len(expected) >= 2 * KILLS  # the kills did land among real work
        await receiver.wait_for(lambda seen: expected <= {r.id for r in seen}, within=90)
    received = Counter(r.id for r in receiver.requests())
    lost = expected - set(received)
    assert lost == set()
    assert set(received) <= expected  # nothing delivered that was not committed
    print(
        f"{len(expected)} events, {KILLS} kills: 0 lost, "
        f"{sum(received.values()) - len(received)} sent again after a kill"
    )


async def test_two_servers_with_two_workers_deliver_each_event_once(
    database_url: str, posts: list[str], receiver: Receiver, tmp_path: Path
) -> None:
    # On SQLite the servers share one host (the file lock decides); on PostgreSQL they could
    # be on different hosts (the advisory lock decides).
    with (
        server(database_url, tmp_path, workers=2) as first,
        server(database_url, tmp_path) as second,
    ):
        created = await graphql(first, CREATE_WEBHOOK, {"url": receiver.url})
        assert created["data"]["createWebhook"]["userErrors"] == []  # type: ignore[index]
        for n in range(60):
            await graphql([first, second][n % 2], UPDATE, {"id": posts[n % 5], "title": f"E{n}"})
        expected = await stored_event_ids(database_url)
        assert len(expected) == 120  # post.updated and site.changed per edit
        await receiver.wait_for(lambda seen: expected <= {r.id for r in seen}, within=60)
        await asyncio.sleep(1.0)  # a duplicate would arrive by now
    received = Counter(r.id for r in receiver.requests())
    assert set(received) == expected
    assert [id for id, count in received.items() if count > 1] == []
