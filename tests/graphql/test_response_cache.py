"""Cached anonymous reads: ETags and 304s, a write on one worker seen by the next
read on another, and a schedule coming due with no write at all."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from datetime import timedelta

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import make_url

from db import models
from db.base import utcnow
from db.engine import Database
from graphql_schema.compiled import generation
from service.app import close_app, create_app
from service.persisted_queries import sha256_hex
from service.settings import Settings
from tests.conftest import POSTGRES_URL
from tests.factories import create_post, create_user
from tests.helpers import PASSWORD, graphql_data, listening, until

postgres_only = pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL's notifications")

LATEST = "{ posts(first: 20) { nodes { title } } }"


@pytest.fixture
async def author(db: Database) -> models.User:
    writer = await create_user(db, name="Writer")
    await create_post(db, "First", authors=[writer])
    return writer


def titles(response: httpx.Response) -> list[str]:
    return [node["title"] for node in response.json()["data"]["posts"]["nodes"]]


async def rename_latest(
    client: httpx.AsyncClient, headers: dict[str, str], title: str = "Renamed"
) -> None:
    """Retitle the latest post as an editor's client would (`headers`: the editor's)."""
    post_id = (await graphql_data(client, "{ posts { nodes { id } } }"))["posts"]["nodes"][0]["id"]
    renamed = await graphql_data(
        client,
        "mutation Rename($id: ID!, $title: String!) "
        "{ updatePost(input: {id: $id, title: $title}) { userErrors { message } } }",
        {"id": post_id, "title": title},
        headers=headers,
    )
    assert renamed["updatePost"]["userErrors"] == []


def commit_elsewhere(settings: Settings, sql: str) -> None:
    """Run `sql` from another process's point of view: its own connection to the SQLite
    file, and no word to the app."""
    other = sqlite3.connect(make_url(settings.database_url).database or "", isolation_level=None)
    try:
        other.execute(sql)
    finally:
        other.close()


@pytest.mark.usefixtures("author")
async def test_get_answers_carry_an_etag_and_a_match_gets_304(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    first = await client.get("/graphql", params={"query": LATEST})
    assert first.status_code == 200
    assert first.headers["cache-control"] == "public, no-cache"
    assert first.headers["vary"] == "Accept, Authorization, X-API-Key"
    etag = first.headers["etag"]
    again = await client.get("/graphql", params={"query": LATEST}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = await client.get("/graphql", params={"query": LATEST}, headers={"If-None-Match": '"x"'})
    assert other.status_code == 200
    assert other.content == first.content
    other_type = await client.get(
        "/graphql",
        params={"query": LATEST},
        headers={"If-None-Match": etag, "Accept": "application/graphql-response+json"},
    )
    assert other_type.status_code == 200  # another media type, another ETag
    assert other_type.headers["etag"] != etag
    assert app.state.compiled_queries.answered == 4


@pytest.mark.usefixtures("author")
async def test_repeated_reads_are_served_from_the_cache(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    cache = app.state.response_cache
    first = await graphql_data(client, LATEST)
    for _ in range(3):
        assert await graphql_data(client, LATEST) == first
    assert cache.hits == 3


async def test_a_write_on_one_worker_reaches_another_within_a_second(
    app: FastAPI,
    client: httpx.AsyncClient,
    second_worker: httpx.AsyncClient,
    as_staff: object,
    author: object,
) -> None:
    """The other worker answers from its cache with no statement at all, and hears of the
    write through PostgreSQL (NOTIFY); the writer's own worker knows at once."""
    other_app = second_worker._transport.app  # type: ignore[attr-defined]
    await listening(app, client)
    await listening(other_app, second_worker)
    before = await second_worker.post("/graphql", json={"query": LATEST})
    assert titles(before) == ["First"]
    reads = other_app.state.response_cache.generations.reads
    assert titles(await second_worker.post("/graphql", json={"query": LATEST})) == ["First"]
    assert other_app.state.response_cache.generations.reads == reads  # a hit: no statement
    assert titles(await client.post("/graphql", json={"query": LATEST})) == ["First"]  # cached
    _, editor = await as_staff(models.Role.EDITOR)  # type: ignore[operator]
    await rename_latest(client, editor)
    written = time.monotonic()
    # The writer's worker: at once, before any notification could arrive.
    assert titles(await client.post("/graphql", json={"query": LATEST})) == ["Renamed"]
    while titles(await second_worker.post("/graphql", json={"query": LATEST})) != ["Renamed"]:
        assert time.monotonic() - written < 1.0, "the other worker still serves the old answer"
        await asyncio.sleep(0.005)
    print(f"seen by the other worker after {1000 * (time.monotonic() - written):.1f} ms")


@postgres_only
async def test_without_notifications_each_request_checks(
    app: FastAPI, client: httpx.AsyncClient, author: models.User
) -> None:
    """The listening connection is lost (a restart, a network fault): until it is back, a
    cached answer is served only after checking the generation, so no change is missed."""
    generations = app.state.response_cache.generations
    await listening(app, client)
    assert titles(await client.post("/graphql", json={"query": LATEST})) == ["First"]
    # Cut the listener's connection from the server side.
    assert POSTGRES_URL is not None
    connection = await asyncpg.connect(POSTGRES_URL.replace("+asyncpg", ""))
    try:
        cut = await connection.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE query = 'LISTEN \"broadsheet_content\"' OR query LIKE 'LISTEN %content%'"
        )
        assert cut == 1
        await until(lambda: not generations.listening, seconds=5)
        # A write no notification announces (another process, say): the next read sees it.
        await connection.execute("UPDATE posts SET title = 'Unannounced'")
        assert titles(await client.post("/graphql", json={"query": LATEST})) == ["Unannounced"]
        # And the listener comes back by itself.
        await until(lambda: generations.listening, seconds=10)
        heard = generations.changes_heard
        await connection.execute("UPDATE posts SET title = 'Announced'")
        await until(lambda: generations.changes_heard > heard, seconds=1)
        assert titles(await client.post("/graphql", json={"query": LATEST})) == ["Announced"]
    finally:
        await connection.close()


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's file, shared by processes")
async def test_a_write_by_another_process_on_the_sqlite_file_is_seen_at_once(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, author: models.User
) -> None:
    """Workers on one SQLite file tell each other nothing: each asks SQLite, before using its
    cache, whether any other connection committed (PRAGMA data_version, no table read)."""
    assert titles(await client.post("/graphql", json={"query": LATEST})) == ["First"]
    reads = app.state.response_cache.generations.reads
    assert titles(await client.post("/graphql", json={"query": LATEST})) == ["First"]
    assert app.state.response_cache.hits == 1
    assert app.state.response_cache.generations.reads == reads  # a hit: the generation kept
    # Another process's write (its trigger moves the version).
    commit_elsewhere(settings, "UPDATE posts SET title = 'Elsewhere'")
    assert titles(await client.post("/graphql", json={"query": LATEST})) == ["Elsewhere"]
    assert app.state.response_cache.hits == 1


async def test_a_published_post_dated_ahead_shows_when_its_time_comes(
    client: httpx.AsyncClient, db: Database, author: models.User
) -> None:
    """Imports may store PUBLISHED rows dated ahead: they too appear on time, cached or not."""
    due = utcnow() + timedelta(seconds=1.5)
    await create_post(db, "Dated ahead", authors=[author], published_at=due)
    assert titles(await client.post("/graphql", json={"query": LATEST})) == ["First"]
    await asyncio.sleep((due - utcnow()).total_seconds() + 0.1)
    assert titles(await client.post("/graphql", json={"query": LATEST})) == ["Dated ahead", "First"]


async def test_a_schedule_coming_due_is_not_hidden_by_the_cache(
    app: FastAPI, client: httpx.AsyncClient, db: Database, author: models.User
) -> None:
    due = utcnow() + timedelta(seconds=1.5)
    await create_post(
        db, "Soon", authors=[author], status=models.PostStatus.SCHEDULED, published_at=due
    )
    assert titles(await client.post("/graphql", json={"query": LATEST})) == ["First"]
    assert titles(await client.post("/graphql", json={"query": LATEST})) == ["First"]
    assert app.state.response_cache.hits == 1
    await asyncio.sleep((due - utcnow()).total_seconds() + 0.1)
    # Nothing was written: the generation moved because the schedule's time came.
    assert titles(await client.post("/graphql", json={"query": LATEST})) == ["Soon", "First"]


@pytest.mark.usefixtures("author")
async def test_a_persisted_query_by_hash_is_answered_and_cached_like_its_document(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(LATEST)}}
    registered = await client.post("/graphql", json={"query": LATEST, "extensions": extensions})
    assert titles(registered) == ["First"]
    assert app.state.compiled_queries.answered == 0  # stored by the general path, once it ran
    by_hash = await client.get("/graphql", params={"extensions": json.dumps(extensions)})
    assert by_hash.content == registered.content
    assert by_hash.headers["etag"]
    assert app.state.compiled_queries.answered == 1


@pytest.mark.usefixtures("author")
async def test_the_allow_list_holds_on_the_compiled_path(settings: Settings) -> None:
    allow_list = create_app(settings.model_copy(update={"persisted_queries_only": True}))
    transport = httpx.ASGITransport(app=allow_list)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        body = (await client.post("/graphql", json={"query": LATEST})).json()
    assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    assert allow_list.state.compiled_queries.answered == 0
    await close_app(allow_list)


@postgres_only
async def test_a_change_no_notification_announced_is_seen_within_a_ping(
    app: FastAPI, client: httpx.AsyncClient, author: models.User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Notifications can stop while the connection lives (a pooler in transaction mode, a
    trigger lost in a restore): the listener's ping reads the version and sees the change."""
    monkeypatch.setattr(generation, "PING_SECONDS", 0.2)
    generations = app.state.response_cache.generations
    await listening(app, client)
    assert titles(await client.post("/graphql", json={"query": LATEST})) == ["First"]
    assert POSTGRES_URL is not None
    connection = await asyncpg.connect(POSTGRES_URL.replace("+asyncpg", ""))
    try:
        await connection.execute(
            "ALTER TABLE content_version DISABLE TRIGGER content_version_notify"
        )
        heard = generations.changes_heard
        await connection.execute("UPDATE posts SET title = 'Unannounced'")
        await until(lambda: generations.changes_heard > heard, seconds=2)
        assert generations.listening
        assert titles(await client.post("/graphql", json={"query": LATEST})) == ["Unannounced"]
    finally:
        await connection.execute(
            "ALTER TABLE content_version ENABLE TRIGGER content_version_notify"
        )
        await connection.close()


async def test_signing_in_keeps_the_cache(
    app: FastAPI, client: httpx.AsyncClient, db: Database, author: models.User
) -> None:
    """A sign-in records when a staff member was last seen: not content, so no worker drops
    its cached answers (a profile change does)."""
    generations = app.state.response_cache.generations
    await listening(app, client)
    staff = await create_user(db, role=models.Role.EDITOR, password=PASSWORD)
    await graphql_data(client, LATEST)
    heard = generations.changes_heard
    signed_in = await client.post(
        "/api/v1/auth/token", data={"username": staff.email, "password": PASSWORD}
    )
    assert signed_in.status_code == 200
    await asyncio.sleep(0.2)  # time enough for a notification, were one sent
    assert generations.changes_heard == heard
    async with db.write_sessions.begin() as session:
        stored = await session.get(models.User, author.id)
        assert stored is not None
        stored.bio = "Writes about boats."
    assert generations.changes_heard > heard  # this process's own commit: at once
