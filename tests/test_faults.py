"""Data safety under faults: a mutation failing half-way writes nothing; a database that
stops (or hangs) makes /healthcheck answer 503 within a second, requests fail within the
configured timeout instead of hanging, and everything recovers by itself."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from sqlalchemy import func, select

from db import models
from db.engine import Database
from db.repositories.content_writer import ContentWriter
from service.app import close_app, create_app
from service.settings import Settings
from tests.conftest import POSTGRES_URL
from tests.factories import create_tag
from tests.helpers import error_codes, graphql


async def test_a_mutation_failing_half_way_writes_nothing(
    client: httpx.AsyncClient, db: Database, as_staff: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, headers = await as_staff(models.Role.EDITOR)  # type: ignore[operator]
    await create_tag(db, "News")

    async def fail(*_: object) -> None:  # after the post row and its authors are written
        raise RuntimeError("disk full near SELECT secret FROM posts")

    monkeypatch.setattr(ContentWriter, "set_tags", fail)
    body = await graphql(
        client,
        'mutation { createPost(input: {title: "Half", tags: ["news"]}) { post { id } } }',
        headers=headers,
    )

    assert error_codes(body) == ["INTERNAL_SERVER_ERROR"]
    assert body["errors"][0]["message"] == "Internal error."
    assert len(body["errors"][0]["extensions"]["requestId"]) == 32  # to find it in the logs
    assert "SELECT" not in str(body)
    async with db.read_sessions() as session:
        for model in (models.Post, models.PostAuthor, models.PostTag, models.PostRevision):
            assert await session.scalar(select(func.count()).select_from(model)) == 0


class FlakyProxy:
    """A TCP proxy to the database that can go down (refuse), hang (accept, never answer)
    or come back, standing in for a database server that stops."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.mode = "up"
        self.port = 0
        self._connections: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self.drop_connections()
        if self._server is not None:
            self._server.close()

    def drop_connections(self) -> None:
        for writer in list(self._connections):
            writer.close()
        self._connections.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "down":
            writer.close()
            return
        self._connections.add(writer)
        if self.mode == "hang":
            return  # keep the socket open and say nothing
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        self._connections.add(upstream_writer)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


@pytest.fixture
async def proxied(migrated_template: str) -> AsyncIterator[tuple[FlakyProxy, httpx.AsyncClient]]:
    if not POSTGRES_URL:
        pytest.skip("needs a database server to stop; runs with BROADSHEET_TEST_DATABASE_URL")
    parts = urlsplit(POSTGRES_URL)
    proxy = FlakyProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    url = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    app = create_app(
        Settings(
            database_url=url,
            secret_key="x" * 48,
            healthcheck_timeout_seconds=1.0,
            database_timeout_seconds=2.0,
            _env_file=None,
        )
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=30) as client:
        yield proxy, client
    await proxy.close()
    with contextlib.suppress(Exception):
        await close_app(app)


async def _timed(client: httpx.AsyncClient, path: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await client.get(path)
    return response, time.monotonic() - started


async def test_healthcheck_follows_the_database_down_and_back(
    proxied: tuple[FlakyProxy, httpx.AsyncClient],
) -> None:
    proxy, client = proxied
    assert (await client.get("/healthcheck")).status_code == 200

    proxy.mode = "down"
    proxy.drop_connections()
    down, elapsed = await _timed(client, "/healthcheck")
    assert down.status_code == 503
    assert down.json()["database"] == "unavailable"
    assert elapsed < 1.0
    assert (await client.get("/healthcheck/live")).status_code == 200

    proxy.mode = "up"
    back, _ = await _timed(client, "/healthcheck")
    assert back.status_code == 200  # recovered by itself, no restart


async def test_a_hung_database_never_hangs_a_request(
    proxied: tuple[FlakyProxy, httpx.AsyncClient],
) -> None:
    proxy, client = proxied
    proxy.mode = "hang"
    proxy.drop_connections()

    health, health_time = await _timed(client, "/healthcheck")
    started = time.monotonic()
    body = (await client.post("/graphql", json={"query": "{ posts { totalCount } }"})).json()
    query_time = time.monotonic() - started

    assert health.status_code == 503
    assert health_time < 1.5
    assert error_codes(body) == ["INTERNAL_SERVER_ERROR"]
    assert query_time < 6  # bounded by BROADSHEET_DATABASE_TIMEOUT_SECONDS, not forever

    proxy.mode = "up"
    proxy.drop_connections()
    assert (await client.get("/healthcheck")).status_code == 200
