"""The compiled path's own connections: single statements, no transaction, nothing left on the
session, so a connection needs neither a ping before use nor a reset after (the general
path's SQLAlchemy pool pings each checkout: three round trips).

Not asyncpg's `Pool` either: per statement, its acquire and release (a task shielding the
release, a reset, timers for the acquire timeout and for idle connections) cost about 50 µs
of CPU under uvloop, more than the statement itself (`SELECT 1` from 8 concurrent tasks:
82 µs a statement through the pool, 32 µs on a connection taken from a list). Here a free
connection is taken from a list; only when every connection is busy does a request wait, up
to the timeout, for one to come back.

After an error the server answered, a connection is reused. After a timeout or a cancelled
request its statement may still run on the server: asyncpg asks the server to cancel it, and
the connection is closed once that is done, holding its place in the pool until then (so a
slow database never gets more than `size` statements from here). A connection that failed
any other way, or sat idle longer than `MAX_IDLE_SECONDS` (a firewall may have dropped it
without a word), is closed at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import URL

POOL_SIZE = 10
# The statements write timestamps with to_json, in the session's time zone (json_sql):
# whatever the server's default, UTC here. (A start-up parameter: PgBouncer passes it on.)
SESSION = {"timezone": "UTC"}
# One plan per statement, made without the parameters' values (the clock, text, ids, cursors;
# plans._members_written_in and the planner write the rest in). Left to choose, PostgreSQL
# planned the 100-post list anew at every run, its estimate of the generic plan being worse:
# 1.5 ms of its time a run against 1.0 ms (authors with their posts and tags: 17.7 against
# 14.8 ms). Set after connecting, not at start-up, which PgBouncer would refuse; where the
# server refuses it (before PostgreSQL 12) PostgreSQL chooses, as before.
GENERIC_PLANS = "SET plan_cache_mode = force_generic_plan"
MAX_IDLE_SECONDS = 300.0  # as asyncpg's pool

log = logging.getLogger(__name__)

T = TypeVar("T")
Statement = Callable[[asyncpg.Connection], Awaitable[T]]


class ReadPool:
    def __init__(self, url: URL, *, timeout: float, size: int = POOL_SIZE) -> None:
        self.dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.timeout = timeout
        self.size = size
        self._idle: list[tuple[asyncpg.Connection, float]] = []  # (connection, idle since)
        # Requests waiting for a connection: each gets one, or None when it may open its own.
        self._waiters: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._open = 0  # connections open, being opened or being closed
        self._closing: set[asyncio.Task[None]] = set()
        self._closed = False
        self._plans_refused = False  # said once

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self._run(lambda c: c.fetchval(sql, *args, timeout=self.timeout))

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        return await self._run(lambda c: c.fetchrow(sql, *args, timeout=self.timeout))

    async def _run(self, statement: Statement[T]) -> T:
        connection = self._take_idle() or await self._checkout()
        try:
            result = await statement(connection)
        except asyncpg.PostgresError:
            self._checkin(connection)  # the server answered, with an error: the session is clean
            raise
        except (TimeoutError, asyncio.CancelledError):
            self._close_when_cancelled(connection)
            raise
        except BaseException:
            self._discard(connection)
            raise
        self._checkin(connection)
        return result

    async def _connect(self, within: float) -> asyncpg.Connection:
        connection = await asyncpg.connect(self.dsn, timeout=within, server_settings=SESSION)
        try:
            await connection.execute(GENERIC_PLANS, timeout=within)
        except asyncpg.PostgresError as error:
            if not self._plans_refused:
                log.warning("compiled path: %r refused (%s)", GENERIC_PLANS, error)
            self._plans_refused = True
        except BaseException:
            connection.terminate()
            raise
        return connection

    def _take_idle(self) -> asyncpg.Connection | None:
        while self._idle:
            connection, since = self._idle.pop()
            if not connection.is_closed() and time.monotonic() - since < MAX_IDLE_SECONDS:
                return connection
            # Lost while idle (the server restarted, say), or idle long enough to doubt it.
            # (No request waits while a connection is idle, so none needs telling.)
            connection.terminate()
            self._open -= 1
        return None

    async def _checkout(self) -> asyncpg.Connection:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while True:
            if self._closed:
                raise asyncpg.InterfaceError("the compiled path's connections are closed")
            connection = self._take_idle()
            if connection is not None:
                return connection
            if self._open < self.size:
                self._open += 1
                try:
                    return await self._connect(max(deadline - loop.time(), 0.001))
                except BaseException:
                    self._slot_freed()
                    raise
            waiter: asyncio.Future[asyncpg.Connection | None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                async with asyncio.timeout_at(deadline):
                    handed = await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    # Handed a connection (or a free place) just as this request gave up.
                    self._pass_on(waiter.result())
                else:
                    with contextlib.suppress(ValueError):
                        self._waiters.remove(waiter)
                raise
            if handed is not None:
                return handed

    def _checkin(self, connection: asyncpg.Connection) -> None:
        if self._closed:
            self._discard(connection)
        elif not self._hand(connection):
            self._idle.append((connection, time.monotonic()))

    def _pass_on(self, handed: asyncpg.Connection | None) -> None:
        if handed is None:
            self._hand(None)
        else:
            self._checkin(handed)

    def _discard(self, connection: asyncpg.Connection) -> None:
        connection.terminate()
        self._slot_freed()

    def _close_when_cancelled(self, connection: asyncpg.Connection) -> None:
        task = asyncio.get_running_loop().create_task(self._close(connection))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close(self, connection: asyncpg.Connection) -> None:
        try:
            # Waits for the server to confirm the cancellation; aborts the connection if it
            # cannot close cleanly in time.
            with contextlib.suppress(Exception):
                await connection.close(timeout=self.timeout)
        finally:
            self._slot_freed()

    def _slot_freed(self) -> None:
        self._open -= 1
        self._hand(None)  # a waiting request may open a connection in its place

    def _hand(self, connection: asyncpg.Connection | None) -> bool:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return True
        return False

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        self._open -= len(idle)
        while self._hand(None):
            pass
        await asyncio.gather(
            *(connection.close(timeout=self.timeout) for connection, _ in idle),
            *self._closing,
            return_exceptions=True,
        )
