"""The compiled path's connections (graphql_schema/compiled/connections.py) against a real
PostgreSQL: more requests than connections, a statement cancelled or timed out midway, a
server error, a connection the server dropped, shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from graphql_schema.compiled.connections import ReadPool
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="the compiled path serves PostgreSQL (CI's PostgreSQL pass)"
)

BACKEND = "SELECT pg_backend_pid()"


@pytest.fixture
async def pool() -> AsyncIterator[ReadPool]:
    assert POSTGRES_URL is not None
    pool = ReadPool(make_url(POSTGRES_URL), timeout=2.0, size=2)
    yield pool
    await pool.close()


async def test_more_requests_than_connections_all_get_answers_on_at_most_size_connections(
    pool: ReadPool,
) -> None:
    answers = await asyncio.gather(
        *(pool.fetchval("SELECT pg_backend_pid() FROM pg_sleep(0.02)") for _ in range(20))
    )

    assert len(answers) == 20
    assert len(set(answers)) <= 2


async def test_a_request_waits_no_longer_than_the_timeout_for_a_busy_pool() -> None:
    assert POSTGRES_URL is not None
    pool = ReadPool(make_url(POSTGRES_URL), timeout=0.5, size=1)
    try:
        held = await pool._checkout()  # a request that has the only connection
        started = asyncio.get_running_loop().time()
        with pytest.raises(TimeoutError):
            await pool.fetchval("SELECT 1")
        assert asyncio.get_running_loop().time() - started < 1.0
        pool._checkin(held)
        assert await pool.fetchval("SELECT 1") == 1  # the pool works on
    finally:
        await pool.close()


async def test_a_statement_over_the_timeout_fails_and_its_connection_is_not_reused() -> None:
    assert POSTGRES_URL is not None
    pool = ReadPool(make_url(POSTGRES_URL), timeout=0.3, size=1)
    try:
        first = await pool.fetchval(BACKEND)
        with pytest.raises(TimeoutError):
            await pool.fetchval("SELECT pg_sleep(5)")
        assert await pool.fetchval(BACKEND) != first
    finally:
        await pool.close()


async def test_a_request_cancelled_midway_leaves_no_busy_connection_behind(
    pool: ReadPool,
) -> None:
    pool.size = 1
    first = await pool.fetchval(BACKEND)
    sleeping = asyncio.create_task(pool.fetchval("SELECT pg_sleep(5)"))
    await asyncio.sleep(0.1)
    sleeping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sleeping

    started = asyncio.get_running_loop().time()
    assert await pool.fetchval(BACKEND) != first
    assert asyncio.get_running_loop().time() - started < 1.0  # not behind the pg_sleep


async def test_a_server_error_keeps_the_connection(pool: ReadPool) -> None:
    pool.size = 1
    first = await pool.fetchval(BACKEND)

    with pytest.raises(asyncpg.DivisionByZeroError):
        await pool.fetchval("SELECT 1 / 0")

    assert await pool.fetchval(BACKEND) == first


async def test_a_connection_the_server_dropped_while_idle_is_replaced_unseen(
    pool: ReadPool,
) -> None:
    pool.size = 1
    first = await pool.fetchval(BACKEND)
    assert POSTGRES_URL is not None
    admin = await asyncpg.connect(
        make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
    finally:
        await admin.close()
    await asyncio.sleep(0.2)  # the client reads the server's goodbye

    assert await pool.fetchval(BACKEND) != first


async def test_closing_fails_waiting_and_later_requests(pool: ReadPool) -> None:
    pool.size = 1
    held = await pool._checkout()
    waiting = asyncio.create_task(pool.fetchval("SELECT 1"))
    await asyncio.sleep(0.05)

    await pool.close()

    with pytest.raises(asyncpg.InterfaceError):
        await waiting
    with pytest.raises(asyncpg.InterfaceError):
        await pool.fetchval("SELECT 1")
    pool._checkin(held)
    assert held.is_closed()
