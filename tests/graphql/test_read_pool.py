"""The compiled path's connections (graphql_schema/compiled/read_pool.py) against a real
PostgreSQL: more requests than connections, a statement cancelled or timed out midway, a
server error, a connection the server dropped, shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from graphql_schema.compiled import read_pool
from graphql_schema.compiled.read_pool import ReadPool
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="the compiled path serves PostgreSQL (CI's PostgreSQL pass)"
)

BACKEND = "SELECT pg_backend_pid()"


async def admin() -> asyncpg.Connection:
    assert POSTGRES_URL is not None
    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    return await asyncpg.connect(url.render_as_string(hide_password=False))


async def still_sleeping() -> int:
    """Statements of these tests still running on the server."""
    connection = await admin()
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE state = 'active' AND query = 'SELECT pg_sleep(5)'"
            )
        )
    finally:
        await connection.close()


async def none_sleeping_within(*, seconds: float) -> bool:
    deadline = asyncio.get_running_loop().time() + seconds
    while await still_sleeping():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


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


async def test_a_statement_over_the_timeout_is_cancelled_on_the_server_too() -> None:
    assert POSTGRES_URL is not None
    pool = ReadPool(make_url(POSTGRES_URL), timeout=0.3, size=1)
    try:
        first = await pool.fetchval(BACKEND)
        with pytest.raises(TimeoutError):
            await pool.fetchval("SELECT pg_sleep(5)")
        # The only place is held until the server has given the statement up.
        assert await pool.fetchval(BACKEND) != first
        assert await still_sleeping() == 0
    finally:
        await pool.close()


async def test_a_request_cancelled_midway_leaves_nothing_running(pool: ReadPool) -> None:
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
    assert await still_sleeping() == 0


async def test_a_slow_database_gets_no_more_statements_than_connections(pool: ReadPool) -> None:
    pool.timeout = 0.3
    requests = asyncio.gather(
        *(pool.fetchval("SELECT pg_sleep(5)") for _ in range(6)), return_exceptions=True
    )
    most = 0
    while not requests.done():
        most = max(most, await still_sleeping())
        await asyncio.sleep(0.02)

    assert all(isinstance(outcome, TimeoutError) for outcome in await requests)
    assert most <= 2
    # Each cancellation is confirmed by the server before its place is freed; on a loaded
    # machine that may come a little after the requests have given up.
    assert await none_sleeping_within(seconds=5)
    assert pool._open <= 2
    assert not pool._waiters


async def test_a_connection_idle_too_long_is_replaced(
    pool: ReadPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool.size = 1
    first = await pool.fetchval(BACKEND)
    monkeypatch.setattr(read_pool, "MAX_IDLE_SECONDS", 0.0)

    assert await pool.fetchval(BACKEND) != first


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
    connection = await admin()
    try:
        assert await connection.fetchval("SELECT pg_terminate_backend($1)", first)
    finally:
        await connection.close()
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


async def test_sessions_are_utc_with_one_plan_per_statement(pool: ReadPool) -> None:
    """Whatever the server's defaults: json_sql writes timestamps in the session's time
    zone, and the statements rely on generic plans (read_pool.SESSION)."""
    assert await pool.fetchval("SHOW timezone") == "UTC"
    assert await pool.fetchval("SHOW plan_cache_mode") == "force_generic_plan"


async def test_a_refused_plan_setting_costs_a_warning_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A server that refuses `plan_cache_mode` (before PostgreSQL 12) still serves the
    compiled path, with PostgreSQL choosing its plans; the log says so once."""
    assert POSTGRES_URL is not None
    monkeypatch.setattr(read_pool, "GENERIC_PLANS", "SET plan_cache_mode = no_such_mode")
    pool = ReadPool(make_url(POSTGRES_URL), timeout=2.0, size=2)
    try:
        both = await asyncio.gather(*(pool.fetchval("SELECT pg_sleep(0.1), 1") for _ in "ab"))
        assert both == [None, None]  # pg_sleep's value; two connections opened
        assert await pool.fetchval("SHOW timezone") == "UTC"
    finally:
        await pool.close()
    refused = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 1
