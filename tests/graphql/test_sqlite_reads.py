"""The compiled path's connections on SQLite (graphql_schema/compiled/sqlite_reads.py): short
statements on the event loop, a long one moved to a thread without holding the loop, one past
the database timeout interrupted, and a file that was never one refused."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import make_url

from db.engine import SQLITE_MMAP_BYTES, Database
from graphql_schema.compiled import sqlite_reads
from graphql_schema.compiled.json_sql import install_sqlite_functions
from graphql_schema.compiled.sqlite_reads import SqliteReads
from tests.conftest import POSTGRES_URL
from tests.helpers import LoopWatch

pytestmark = pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's own connections")

# Counts to `?` one row at a time: about a second of SQLite's work for ten million.
COUNT_TO = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
    "SELECT count(*) FROM n"
)


@pytest.fixture
async def reads(database_url: str) -> AsyncIterator[SqliteReads]:
    reads = SqliteReads(make_url(database_url), timeout=30.0)
    yield reads
    await reads.close()


async def test_a_short_statement_runs_on_the_loop(reads: SqliteReads) -> None:
    assert await reads.fetchval(COUNT_TO, 1000) == 1000
    assert await reads.fetchval("SELECT broadsheet_base64url('Post:1')") == "UG9zdDox"
    assert reads.sent_to_threads == 0


async def test_a_long_statement_goes_to_a_thread_and_the_loop_is_not_held(
    reads: SqliteReads,
) -> None:
    watch = LoopWatch()
    done = asyncio.Event()
    watcher = asyncio.create_task(watch.run(done))
    await asyncio.sleep(0.02)  # the watch is running
    try:
        assert await reads.fetchval(COUNT_TO, 5_000_000) == 5_000_000
        assert reads.sent_to_threads == 1
        # Known as slow now: straight to a thread, the loop's budget not spent again.
        assert await reads.fetchval(COUNT_TO, 5_000_000) == 5_000_000
        assert reads.sent_to_threads == 1
    finally:
        done.set()
        await watcher
    # The loop's budget is 20 ms; a loaded two-core machine may take some more to come back.
    assert watch.worst < 0.2, f"the loop was held {watch.worst * 1000:.0f} ms"


async def test_a_paused_process_does_not_send_a_statement_to_the_threads(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop's budget counts the statement's own CPU time: a process paused meanwhile (a
    loaded host) has not run slow SQL. A function that sleeps 50 ms, called once at the
    start, stands in for the pause, in a statement of a few milliseconds' work (SQLite's
    alone: a Python function called on every row would cost the budget itself on a loaded
    machine)."""

    def pause(i: int) -> int:
        if i == 1:
            time.sleep(0.05)
        return i

    def with_pause(connection: sqlite3.Connection) -> None:
        install_sqlite_functions(connection)
        connection.create_function("pause", 1, pause)

    monkeypatch.setattr(sqlite_reads, "install_sqlite_functions", with_pause)
    reads = SqliteReads(make_url(database_url), timeout=30.0)
    try:
        paused = (
            "WITH RECURSIVE n(i) AS (SELECT pause(1) UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 30000) SELECT count(*) FROM n"
        )
        assert await reads.fetchval(paused) == 30000
        assert reads.sent_to_threads == 0
    finally:
        await reads.close()


async def test_a_statement_past_the_timeout_is_interrupted(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_reads, "LOOP_BUDGET_SECONDS", 0.01)
    reads = SqliteReads(make_url(database_url), timeout=0.2)
    try:
        started = asyncio.get_running_loop().time()
        with pytest.raises(TimeoutError):
            await reads.fetchval(COUNT_TO, 1_000_000_000)
        assert asyncio.get_running_loop().time() - started < 5.0
        assert await reads.fetchval("SELECT 1") == 1  # the connection is fine afterwards
    finally:
        await reads.close()


async def test_the_file_is_read_through_a_memory_map(reads: SqliteReads, db: Database) -> None:
    """A page outside SQLite's small cache is read from memory, not with a read() call each
    (bench/RESULTS.md: a tag archive on 10,000 posts cost 0.3 ms more without), on the
    compiled path's connections and the engine's alike."""
    assert await reads.fetchval("PRAGMA mmap_size") == SQLITE_MMAP_BYTES
    async with db.engine.connect() as connection:
        mapped = (await connection.exec_driver_sql("PRAGMA mmap_size")).scalar()
    assert mapped == SQLITE_MMAP_BYTES


async def test_the_connections_only_read(reads: SqliteReads) -> None:
    with pytest.raises(Exception, match="readonly"):
        await reads.fetchval("DELETE FROM posts")


def test_an_in_memory_database_is_refused() -> None:
    with pytest.raises(ValueError, match="file"):
        SqliteReads(make_url("sqlite+aiosqlite://"), timeout=1.0)
    with pytest.raises(ValueError, match="file"):
        SqliteReads(make_url("sqlite+aiosqlite:///:memory:"), timeout=1.0)
