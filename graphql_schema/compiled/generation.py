"""The generation of content that cached answers must belong to, known without a statement.

A generation is the content version (moved by triggers in the very transaction that changes
content, migration 0006) and the next scheduled publication still to come. A worker reads it
with one statement and then keeps it, because it is told when it moves:

- on PostgreSQL (`NotifiedGenerations`), the database NOTIFYs every worker on every host when
  a transaction moves the version (migration 0010's trigger; delivered at commit) on a
  connection kept here for LISTEN;
- on SQLite (`SqliteGenerations`), every process shares the one file, and SQLite's
  `PRAGMA data_version` on a connection kept here tells, without reading the database, that
  another connection committed since the last look (a few µs, so it is asked every time);
- this process's own commits drop it before their response is sent (a writer reads its
  write at once, without waiting for the notification);
- the clock passing the next scheduled publication drops it too.

While the database is not being listened to (at start, after the connection is lost, while
it is opened again), nothing is kept: every request reads the generation, as it would without
any of this. A PostgreSQL connection lost without a word (a firewall) is noticed by a ping
every few seconds. Concurrent requests needing the generation share one read."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import sqlite3
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.engine import Dialect

from db import changes
from db.base import UTCDateTime, utcnow
from db.models import PostType
from graphql_schema.compiled.read_pool import ReadPool
from graphql_schema.compiled.sqlite_reads import SqliteReads

log = logging.getLogger(__name__)

CHANNEL = "broadsheet_content"  # as migration 0010's trigger
PING_SECONDS = 5.0
PING_SQL = "SELECT version FROM content_version WHERE id = 1"
LISTENER_TASK = "broadsheet: content notifications"  # lives as long as the app
RECONNECT_SECONDS = (0.5, 1.0, 2.0, 5.0)  # then every 5 s

# The next time a post not yet visible becomes visible by the clock alone: the negation of
# policy.public_posts' time condition, over the rows its status condition admits. Naming
# every type lets the (type, published_at) index find the few rows dated ahead.
GENERATION_SQL = f"""
SELECT (SELECT version FROM content_version WHERE id = 1),
       (SELECT min(published_at) FROM posts
         WHERE type IN ({", ".join(f"'{t.value}'" for t in PostType)})
           AND status <> 'draft' AND published_at > {{now}})
"""

Generation = tuple[int, datetime | None]  # (content version, next scheduled publication)
CONNECTION_ERRORS = (OSError, TimeoutError)


class Generations:
    """The current generation, per worker: read when unknown, kept while the database is
    listened to, dropped on every change heard of. Subclasses listen, each its own way."""

    def __init__(self, pool: ReadPool | SqliteReads, *, dialect: Dialect, now: str) -> None:
        self.pool = pool  # the primary's: it alone NOTIFYs, and it alone is never behind
        self.sql = GENERATION_SQL.format(now=now)  # `now`: the driver's positional parameter
        # The instants in and out as the column converts them (SQLite keeps them as text).
        column = UTCDateTime().dialect_impl(dialect)
        bind, result = column.bind_processor(dialect), column.result_processor(dialect, None)
        assert bind is not None  # a TypeDecorator's, always
        assert result is not None
        self._bind, self._result = bind, result
        self.reads = 0  # statements run to learn the generation (the tests count them)
        self._known: Generation | None = None
        self._epoch = 0  # moves with every change heard of: a read from before it is stale
        self._listening = False
        self._reading: tuple[int, asyncio.Task[Generation | None]] | None = None
        changes.on_content_commit(self.invalidate)

    @property
    def listening(self) -> bool:
        return self._listening

    @property
    def changes_heard(self) -> int:
        """How many times the generation was dropped: notifications, own commits, reconnects."""
        return self._epoch

    def known(self) -> Generation | None:
        """The current generation if it is known without a statement, else None."""
        self._listen()
        known = self._known
        if known is not None and (known[1] is None or utcnow() < known[1]):
            return known
        return None

    async def current(self) -> Generation | None:
        """None when the version cannot be read (answers are then simply not cached)."""
        known = self.known()
        if known is not None:
            return known
        loop = asyncio.get_running_loop()
        epoch = self._epoch
        if self._reading is None or self._reading[0] != epoch:
            # A read begun before the last change must not answer a request made after it.
            read = loop.create_task(self._read(epoch), context=contextvars.Context())
            self._reading = (epoch, read)
        return await asyncio.shield(self._reading[1])

    def invalidate(self) -> None:
        """Forget the generation: the next request reads it again."""
        self._epoch += 1
        self._known = None

    async def _read(self, epoch: int) -> Generation | None:
        try:
            row = await self.pool.fetchrow(self.sql, self._bind(utcnow()))
        finally:
            if self._reading is not None and self._reading[0] == epoch:
                self._reading = None
        self.reads += 1
        generation = None if row is None or row[0] is None else (row[0], self._result(row[1]))
        if self._listening and self._epoch == epoch:
            self._known = generation  # nothing changed while it was read: keep it
        return generation

    def _listen(self) -> None:
        """Hear of changes from now on (called before every look at the generation)."""
        raise NotImplementedError

    async def close(self) -> None:
        changes.off_content_commit(self.invalidate)


class NotifiedGenerations(Generations):
    """PostgreSQL's: told of every change on a connection kept for LISTEN."""

    def __init__(self, pool: ReadPool, dialect: Dialect) -> None:
        super().__init__(pool, dialect=dialect, now="$1")
        self.pool: ReadPool = pool
        self._listener: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()

    def _listen(self) -> None:
        if self._listener is None:
            # A context of its own: not the request's that happened to start it (its logs
            # would carry that request's id for the life of the process).
            self._listener = asyncio.get_running_loop().create_task(
                self._listen_always(), name=LISTENER_TASK, context=contextvars.Context()
            )

    async def _listen_always(self) -> None:
        attempt = 0
        while True:
            try:
                await self._listen_once()
                attempt = 0
            except (*CONNECTION_ERRORS, asyncpg.PostgresError, asyncpg.InterfaceError):
                log.warning("content notifications lost; each request checks until they resume")
            except Exception:
                # Whatever it was, this worker must not go on without notifications for good.
                log.exception("content notifications failed; each request checks meanwhile")
            await asyncio.sleep(RECONNECT_SECONDS[min(attempt, len(RECONNECT_SECONDS) - 1)])
            attempt += 1

    async def _listen_once(self) -> None:
        """One LISTEN connection, for as long as it lasts."""
        connection = await asyncpg.connect(self.pool.dsn, timeout=self.pool.timeout)
        try:
            self._lost.clear()
            connection.add_termination_listener(self._terminated)
            await connection.add_listener(CHANNEL, self._notified)
            self._listening = True
            self.invalidate()  # whatever changed while nobody listened
            while not self._lost.is_set():
                # (Not wait_for: on 3.11 it runs the wait as a task of its own.)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(PING_SECONDS):
                        await self._lost.wait()
                # The ping reads the version: should notifications stop while the connection
                # lives (a pooler in transaction mode, a trigger lost in a restore), a missed
                # change is still seen within PING_SECONDS.
                version = await connection.fetchval(PING_SQL, timeout=self.pool.timeout)
                known = self._known
                if known is not None and known[0] != version:
                    self.invalidate()
        finally:
            self._listening = False
            self.invalidate()
            connection.terminate()

    def _notified(self, *_: Any) -> None:
        self.invalidate()

    def _terminated(self, *_: Any) -> None:
        self._listening = False
        self.invalidate()
        self._lost.set()

    async def close(self) -> None:
        await super().close()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener


class SqliteGenerations(Generations):
    """SQLite's: every look asks SQLite whether another connection (this process's, or
    another worker's on the same file) committed since the last."""

    def __init__(self, pool: SqliteReads, dialect: Dialect) -> None:
        super().__init__(pool, dialect=dialect, now="?")
        self.pool: SqliteReads = pool
        self._watch: sqlite3.Connection | None = None
        self._data_version: int | None = None

    def _listen(self) -> None:
        try:
            if self._watch is None:
                # Never waits for a lock (a look that would is a change not yet known).
                self._watch = sqlite3.connect(self.pool.path, timeout=0, isolation_level=None)
            (data_version,) = self._watch.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:
            log.warning("SQLite's data version unreadable; this request reads the generation")
            self._listening = False
            self.invalidate()
            return
        if data_version != self._data_version:
            self._data_version = data_version
            self.invalidate()
        self._listening = True

    async def close(self) -> None:
        await super().close()
        if self._watch is not None:
            self._watch.close()


def generations(pool: ReadPool | SqliteReads, dialect: Dialect) -> Generations:
    """The generation as this database (`dialect`, its engine's) tells of its changes."""
    if isinstance(pool, SqliteReads):
        return SqliteGenerations(pool, dialect)
    return NotifiedGenerations(pool, dialect)
