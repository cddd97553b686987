"""The compiled path's connections on SQLite: single read statements, run in this process.

SQLite runs here, so a statement costs CPU here, not a round trip. Most of the compiled
path's statements are short (a homepage of 15 posts: about 0.5 ms), and handing one to a
thread costs more than running it: the interpreter's lock passes back and forth for every
call of a Python function in the SQL (base64 ids, cursors), and the answer waits for the
loop to look at the thread again (measured: 2.5 ms of CPU a homepage through a thread pool,
0.9 ms on the loop). So a statement runs on the event loop, with a budget: one that would
hold the loop longer than `LOOP_BUDGET_SECONDS` of its own CPU time is interrupted there
(SQLite checks a progress handler every few thousand instructions), run again on a thread,
and its SQL is sent to the threads for the next `SLOW_FOR_SECONDS`. No statement holds the
others up for more than the budget's worth of its own work.

On a thread, a statement past the database timeout is interrupted and raises TimeoutError,
as the PostgreSQL pool does. A request cancelled meanwhile leaves its statement to finish or
time out on its thread. Each thread (the loop's included) has a connection of its own.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cachetools import TTLCache
from sqlalchemy.engine import URL

from db.engine import configure_sqlite_connection
from graphql_schema.compiled.json_sql import install_sqlite_functions

THREADS = 4
LOOP_BUDGET_SECONDS = 0.02
CACHED_STATEMENTS = 512  # per connection: the plans in use, prepared once each
PROGRESS_INSTRUCTIONS = 10_000  # between looks at the clock (well under a millisecond)
MAX_SLOW_STATEMENTS = 1000  # remembered as such; plans are bounded the same way
# For this long: the budget is wall-clock time, so a statement can overrun it once under
# load (the machine busy elsewhere) and be cheap again afterwards.
SLOW_FOR_SECONDS = 60.0

Row = tuple[Any, ...]


def shared_file(url: URL) -> bool:
    """Whether connections to this SQLite URL share one database: not an in-memory one, of
    which each connection opens its own."""
    return url.database not in (None, "", ":memory:")


class OffTheLoop(Exception):
    """A statement on the loop ran past its budget (`slow`), or would wait for a lock: it
    goes to a thread."""

    def __init__(self, *, slow: bool) -> None:
        self.slow = slow


class SqliteReads:
    def __init__(self, url: URL, *, timeout: float, threads: int = THREADS) -> None:
        if url.database is None or not shared_file(url):
            raise ValueError("the compiled path needs an SQLite file")
        self.path: str = url.database
        self.timeout = timeout
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="sqlite-reads")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._slow: TTLCache[str, bool] = TTLCache(MAX_SLOW_STATEMENTS, SLOW_FOR_SECONDS)
        self.sent_to_threads = 0  # statements that went over the loop's budget (tests read it)

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        if sql not in self._slow:
            try:
                return self._fetchrow(sql, args, budget=LOOP_BUDGET_SECONDS)
            except OffTheLoop as off:
                if off.slow:
                    self._slow[sql] = True
                self.sent_to_threads += 1
        loop = asyncio.get_running_loop()
        row: Row | None = await loop.run_in_executor(
            self._executor, self._fetchrow, sql, args, self.timeout
        )
        return row

    async def fetchval(self, sql: str, *args: Any) -> Any:
        row = await self.fetchrow(sql, *args)
        return None if row is None else row[0]

    def _fetchrow(self, sql: str, args: tuple[Any, ...], budget: float) -> Row | None:
        on_loop = budget < self.timeout
        connection = self._connection(waits=not on_loop)
        self._local.deadline = time.monotonic() + budget
        self._local.cpu_deadline = time.thread_time() + budget if on_loop else None
        try:
            # Read to the end (one row): a statement left part-read is not reset for reuse, and
            # the next execution of the same SQL prepares it again (about 0.3 ms a homepage).
            rows = connection.execute(sql, args).fetchall()
        except sqlite3.OperationalError as error:
            busy = error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY  # extended codes too
            if on_loop and busy:
                raise OffTheLoop(slow=False) from error
            if str(error) != "interrupted":
                raise
            if on_loop:
                raise OffTheLoop(slow=True) from error
            raise TimeoutError("the statement outlived the database timeout") from error
        return rows[0] if rows else None

    def _connection(self, *, waits: bool) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self.path,
                timeout=self.timeout,
                isolation_level=None,  # each statement reads in a transaction of its own
                check_same_thread=False,  # used by its thread only; closed by `close`
                cached_statements=CACHED_STATEMENTS,
            )
            configure_sqlite_connection(connection)
            install_sqlite_functions(connection)
            connection.execute("PRAGMA query_only = ON")
            if not waits:  # the loop's: never waits for a lock (a thread does)
                connection.execute("PRAGMA busy_timeout = 0")
            connection.set_progress_handler(self._past_deadline, PROGRESS_INSTRUCTIONS)
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def _past_deadline(self) -> bool:
        local = self._local
        now = time.monotonic()
        if now <= local.deadline:
            return False
        cpu_deadline: float | None = local.cpu_deadline
        if cpu_deadline is not None:
            # On the loop the budget is the statement's own work. Time the process spent
            # paused (a loaded host) does not make its SQL slow, and sending that SQL to the
            # threads for a minute would make every later request dearer just when CPU is
            # scarce. Only past the wall-clock deadline is the thread's CPU clock read.
            left = cpu_deadline - time.thread_time()
            if left > 0:
                local.deadline = now + left
                return False
        return True

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._executor.shutdown)
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
