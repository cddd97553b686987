"""BROADSHEET_READ_DATABASE_URL on a real streaming replica (PostgreSQL pass): anonymous and
CONTENT-key reads come from the replica, on the compiled path and on the general one; staff
reads, ADMIN keys and every write go to the primary; once the replica has caught up, no
cache keeps serving what it showed while it lagged.

The replica's lag is made, not waited for: its replay is paused, the primary changes, and
reads show the change or not by where they were answered."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from db import models
from db.engine import Database
from graphql_schema.ids import to_global_id
from service.persisted_queries import sha256_hex
from service.settings import Settings
from service.tokens import digest
from tests.conftest import POSTGRES_URL, make_settings
from tests.factories import create_post, create_tag, create_user
from tests.helpers import graphql_data
from tests.replica import (
    Replica,
    ReplicaUnavailable,
    dsn,
    start_replica,
    stop_replica,
)

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="a read replica is PostgreSQL's (CI's PostgreSQL pass)"
)

IN_CI = os.environ.get("CI", "").lower() in ("true", "1", "yes")
CATCH_UP_SECONDS = 15.0  # generous: a loaded two-core CI machine
POLL_SECONDS = 0.002

# Each post with its tags: a field the general path fills from a loader, in its own query.
LATEST = "query Latest { posts(first: 5) { nodes { title tags { name } } } }"  # compiled
NODE = "query Node($id: ID!) { node(id: $id) { ... on Post { title tags { name } } } }"  # general
EDIT = """
mutation Edit($post: ID!, $title: String!, $tag: ID!, $name: String!) {
  updatePost(input: {id: $post, title: $title}) { post { title } userErrors { message } }
  updateTag(input: {id: $tag, name: $name}) { tag { name } userErrors { message } }
}
"""


@pytest.fixture(scope="session")
def replica(migrated_template: str) -> Iterator[Replica]:
    """One streaming replica of the test cluster for the run (started once it is migrated)."""
    assert POSTGRES_URL
    try:
        standby = start_replica(POSTGRES_URL)
    except ReplicaUnavailable as error:
        # CI must run these; a developer whose PostgreSQL refuses replication gets a skip.
        if IN_CI:
            pytest.fail(f"no read replica (CI=true, so this fails instead of skipping): {error}")
        pytest.skip(f"no read replica: {error}")
    print(f"read replica: streaming {standby.started_in:.2f} s after the backup began")
    try:
        yield standby
    finally:
        stop_replica(standby, POSTGRES_URL)


@pytest.fixture
def settings(database_url: str, replica: Replica, request: pytest.FixtureRequest) -> Settings:
    """The suite's settings with the replica for public reads; parametrized, the compiled
    path's mode (verify by default: both paths answer, identically)."""
    mode = getattr(request, "param", "verify")
    return make_settings(database_url, read_database_url=replica.url, compiled_queries=mode)


@dataclass
class Replication:
    """The primary and the replica seen from outside the app, through the cluster's
    `postgres` database (the test database is the app's)."""

    replica: Replica
    primary: asyncpg.Connection
    standby: asyncpg.Connection

    async def position(self) -> str:
        """Where the primary's durable WAL ends: every commit so far lies before it."""
        lsn: str = await self.primary.fetchval("SELECT pg_current_wal_flush_lsn()::text")
        return lsn

    async def replayed(self, lsn: str) -> bool:
        done: bool = await self.standby.fetchval(
            "SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", lsn
        )
        return done

    async def catch_up(self) -> float:
        """Wait until the replica has applied everything the primary committed so far;
        return how long that took (the replication lag)."""
        lsn = await self.position()
        loop = asyncio.get_running_loop()
        started = loop.time()
        while not await self.replayed(lsn):
            if loop.time() - started > CATCH_UP_SECONDS:
                replayed = await self.standby.fetchval("SELECT pg_last_wal_replay_lsn()::text")
                pytest.fail(
                    f"the replica replayed to {replayed}, not {lsn}, in {CATCH_UP_SECONDS} s; "
                    f"its log:\n{self.replica.log_tail()}"
                )
            await asyncio.sleep(POLL_SECONDS)
        return loop.time() - started

    async def pause(self) -> None:
        """Stop applying WAL (the replica keeps receiving it): from here it lags."""
        await self.standby.execute("SELECT pg_wal_replay_pause()")
        # Once requested, no further record is applied; 'paused' follows when one arrives.
        state = await self.standby.fetchval("SELECT pg_get_wal_replay_pause_state()")
        assert state in ("pause requested", "paused"), state

    async def resume(self) -> None:
        await self.standby.execute("SELECT pg_wal_replay_resume()")


@pytest.fixture
async def replication(replica: Replica) -> AsyncIterator[Replication]:
    assert POSTGRES_URL
    primary = await asyncpg.connect(dsn(_database(POSTGRES_URL, "postgres")), timeout=10)
    standby = await asyncpg.connect(dsn(_database(replica.url, "postgres")), timeout=10)
    try:
        yield Replication(replica, primary, standby)
    finally:
        await standby.execute("SELECT pg_wal_replay_resume()")  # whatever the test did
        await standby.close()
        await primary.close()


def _database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@dataclass(frozen=True)
class Site:
    post: models.Post
    tag: models.Tag
    editor: dict[str, str]  # Bearer headers
    content_key: dict[str, str]
    admin_key: dict[str, str]


@pytest.fixture
async def site(db: Database, as_staff: Any, replication: Replication) -> Site:
    """One published post with a tag, a staff token and both kinds of API key, all on the
    replica too."""
    writer = await create_user(db, name="Writer")
    tag = await create_tag(db, "Old tag")
    post = await create_post(db, "Before", authors=[writer], tags=[tag])
    _, editor = await as_staff(models.Role.EDITOR)
    site = Site(
        post=post,
        tag=tag,
        editor=editor,
        content_key=await api_key(db, models.ApiKeyScope.CONTENT),
        admin_key=await api_key(db, models.ApiKeyScope.ADMIN),
    )
    lag = await replication.catch_up()
    print(f"replication lag after the site's set-up: {lag * 1000:.1f} ms")
    return site


async def api_key(db: Database, scope: models.ApiKeyScope) -> dict[str, str]:
    secret = f"bsk_replica_{scope.value}"
    async with db.write_sessions.begin() as session:
        session.add(models.ApiKey(name="k", scope=scope, key_hash=digest(secret), prefix="bsk_r"))
    return {"X-Api-Key": secret}


async def edit(client: httpx.AsyncClient, site: Site, title: str) -> None:
    """Retitle the post and rename its tag (f"{title} tag") as an editor: two commits."""
    variables = {
        "post": to_global_id("Post", site.post.id),
        "title": title,
        "tag": to_global_id("Tag", site.tag.id),
        "name": f"{title} tag",
    }
    data = await graphql_data(client, EDIT, variables, headers=site.editor)
    assert data == {
        "updatePost": {"post": {"title": title}, "userErrors": []},
        "updateTag": {"tag": {"name": f"{title} tag"}, "userErrors": []},
    }


def shown(node: dict[str, Any]) -> str:
    """A post as a page shows it: "Title [tag, …]"."""
    return f"{node['title']} [{', '.join(tag['name'] for tag in node['tags'])}]"


BEFORE = "Before [Old tag]"
AFTER = "After [After tag]"


async def latest(client: httpx.AsyncClient, headers: dict[str, str] | None = None) -> list[str]:
    """The posts a GET of LATEST shows (what a frontend's cached page fetches)."""
    response = await client.get("/graphql", params={"query": LATEST}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return [shown(node) for node in body["data"]["posts"]["nodes"]]


async def by_node(
    client: httpx.AsyncClient, site: Site, headers: dict[str, str] | None = None
) -> str:
    data = await graphql_data(
        client, NODE, {"id": to_global_id("Post", site.post.id)}, headers=headers
    )
    return shown(data["node"])


async def test_public_reads_come_from_the_replica_and_staff_reads_from_the_primary(
    app: FastAPI, client: httpx.AsyncClient, as_staff: Any, replication: Replication, site: Site
) -> None:
    compiled = app.state.compiled_queries
    assert await latest(client) == [BEFORE]  # cached by the response cache, too
    assert compiled.answered == 1

    await replication.pause()
    await edit(client, site, "After")

    # Staff read what they wrote: the primary answers them, whichever path and however
    # they authenticate (a token issued after the replica stopped applying WAL included).
    _, new_editor = await as_staff(models.Role.EDITOR)
    for staff in (site.editor, new_editor, site.admin_key):
        assert await latest(client, staff) == [AFTER]
        assert await by_node(client, site, staff) == AFTER
    assert compiled.answered == 1  # none of them was the compiled path's

    # Anonymous readers and frontends with a CONTENT key read the lagging replica, all of
    # each answer from it: on the compiled path (GET and POST; verified against the general
    # path, which must read the replica too, loaders included) ...
    for public in (None, site.content_key):
        assert await latest(client, public) == [BEFORE]
        posted = await graphql_data(client, LATEST, headers=public)
        assert [shown(node) for node in posted["posts"]["nodes"]] == [BEFORE]
    assert compiled.answered == 5
    # ... and on the general path, which alone answers `node`.
    for public in (None, site.content_key):
        assert await by_node(client, site, public) == BEFORE
    assert compiled.answered == 5

    await replication.resume()
    lag = await replication.catch_up()
    print(f"replica caught up {lag * 1000:.1f} ms after its replay resumed")

    # Caught up, the replica's answer is the primary's: nothing cached while it lagged
    # may be served now, on either path, however often asked.
    for public in (None, site.content_key):
        for _ in range(3):
            assert await latest(client, public) == [AFTER]
        assert await by_node(client, site, public) == AFTER


@pytest.mark.parametrize("settings", ["on"], indirect=True)
async def test_reads_while_the_replica_catches_up_only_move_forward(
    app: FastAPI, client: httpx.AsyncClient, replication: Replication, site: Site
) -> None:
    """Polled as the replica resumes (the compiled path alone, unverified: the replica may
    move between the two paths' reads): the old post, then the new one for good, within
    moments of the replica replaying the change. (The edit is two commits, so the title may
    change before the tag.)"""
    states = [BEFORE, "After [Old tag]", AFTER]
    assert await latest(client) == [BEFORE]
    await replication.pause()
    await edit(client, site, "After")
    target = await replication.position()
    assert await latest(client) == [BEFORE]  # the replica's, read again: the cache's is old

    loop = asyncio.get_running_loop()
    await replication.resume()
    resumed = loop.time()
    seen: list[str] = []
    replayed_at = None
    while seen[-5:] != [AFTER] * 5:
        assert loop.time() - resumed < CATCH_UP_SECONDS, f"still {seen[-1]!r}"
        [post] = await latest(client)
        seen.append(post)
        if replayed_at is None and await replication.replayed(target):
            replayed_at = loop.time()
        await asyncio.sleep(POLL_SECONDS)
    order = [states.index(post) for post in seen]
    assert order == sorted(order), seen  # never back to an older state
    # Each read the compiled path's, or the cache front's repeating one of its answers.
    answered = app.state.compiled_queries.answered + app.state.cache_front.hits
    assert answered == len(seen) + 2
    print(
        f"after resuming: {seen.index(AFTER)} reads showed an older state; the replica had "
        f"replayed the change {((replayed_at or loop.time()) - resumed) * 1000:.1f} ms after"
    )


async def stored_on(connection_url: str, sha256: str) -> bool:
    connection = await asyncpg.connect(dsn(connection_url), timeout=10)
    try:
        row = await connection.fetchval(
            "SELECT count(*) FROM persisted_queries WHERE sha256 = $1", sha256
        )
    finally:
        await connection.close()
    return bool(row)


@pytest.mark.usefixtures("site")
async def test_an_anonymous_request_that_writes_writes_on_the_primary(
    client: httpx.AsyncClient,
    second_worker: httpx.AsyncClient,
    replica: Replica,
    replication: Replication,
) -> None:
    """Registering an automatic persisted query is a write in an anonymous read: it lands on
    the primary while the replica lags, and another worker, whose replica does not know the
    document yet, still completes Apollo's round trip."""
    assert POSTGRES_URL
    document = "query Titles { posts(first: 3) { nodes { title } } }"
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(document)}}
    await replication.pause()

    response = await client.post("/graphql", json={"query": document, "extensions": extensions})
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"posts": {"nodes": [{"title": "Before"}]}}}
    assert await stored_on(POSTGRES_URL, sha256_hex(document))
    assert not await stored_on(replica.url, sha256_hex(document))  # it was not replayed yet

    # The first worker knows the document now; the second may not (its lookup may read the
    # lagging replica) and then says so, and Apollo's retry with the document succeeds.
    hash_only = {"extensions": json.dumps(extensions)}
    assert (await client.get("/graphql", params=hash_only)).json() == response.json()
    by_hash = (await second_worker.get("/graphql", params=hash_only)).json()
    if "errors" in by_hash:
        assert by_hash["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        retry = await second_worker.post(
            "/graphql", json={"query": document, "extensions": extensions}
        )
        assert retry.status_code == 200, retry.text
        by_hash = retry.json()
    assert by_hash == response.json()

    await replication.resume()
    await replication.catch_up()
    assert await stored_on(replica.url, sha256_hex(document))


async def test_replication_lag_and_nothing_left_on_the_primary(
    client: httpx.AsyncClient, replication: Replication, site: Site
) -> None:
    """What the replica lags behind a staff write, measured (printed; run with -s), and the
    primary's view of it: one WAL sender, no slot."""
    replica = replication.replica
    lags = []
    for n in range(10):
        await edit(client, site, f"Edit {n}")
        lags.append(await replication.catch_up())
    median, worst = statistics.median(lags), max(lags)
    print(f"replication lag over 10 writes: median {median * 1000:.1f} ms, max {worst * 1000:.1f}")
    assert worst < CATCH_UP_SECONDS

    senders = await replication.primary.fetch(
        "SELECT state, replay_lag FROM pg_stat_replication WHERE application_name = $1",
        replica.name,
    )
    assert [row["state"] for row in senders] == ["streaming"]
    slots = await replication.primary.fetchval(
        "SELECT count(*) FROM pg_replication_slots"
        " WHERE slot_name LIKE 'pg\\_basebackup\\_%' OR active_pid IN"
        " (SELECT pid FROM pg_stat_replication WHERE application_name = $1)",
        replica.name,
    )
    assert slots == 0
    assert await latest(client) == ["Edit 9 [Edit 9 tag]"]
