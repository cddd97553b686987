"""The background runner: scheduled posts going live, events fanned out to webhooks,
deliveries sent and retried, old deliveries pruned. No cron: it runs inside the server.

Exactly one process runs it at a time, among all workers and hosts: on PostgreSQL the one
holding a session advisory lock (released by the database when its connection ends, so a
killed worker's place is taken within a poll); on SQLite the one holding a file lock beside
the database (SQLite serves one host). The others wait, trying again every poll."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db import models, outbox
from db.base import utcnow
from db.engine import Database
from db.repositories.deliveries import DeliveryQueue, WorkAhead
from service import events
from service.dispatch import Dispatcher, DispatchSettings
from service.settings import Settings

log = logging.getLogger(__name__)

# pg_try_advisory_lock's key: "broadsht" as a 64-bit integer.
ADVISORY_LOCK_KEY = int.from_bytes(b"broadsht", "big", signed=True)
# Between looks for new work while the database tells of it (PostgreSQL's NOTIFY): a safety
# net for a notification lost; the next scheduled post or delivery is woken for on time.
TOLD_LOOK_SECONDS = 5.0
SCHEDULE_BATCH = 100
ALIVE = text("SELECT 1")  # made once: a TextClause parses its text when made
PRUNE_EVERY = timedelta(minutes=10)


class Leadership(Protocol):
    # Whether other processes' new work is told (`listen`): looks for it can then be rare.
    told: bool

    async def acquire(self) -> bool: ...
    async def held(self) -> bool: ...
    async def release(self) -> None: ...
    async def listen(self, wake: Callable[[], None]) -> None:
        """Call `wake` whenever another process writes events, where the database says so."""


class AdvisoryLock:
    """PostgreSQL: a session-level advisory lock on a connection kept for the purpose."""

    told = True

    def __init__(self, db: Database) -> None:
        self.db = db
        self.connection: AsyncConnection | None = None

    async def acquire(self) -> bool:
        if self.connection is None:
            connection = await self.db.engine.connect()
            self.connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            # Should this host vanish (no FIN ever reaches the server), PostgreSQL would keep
            # the lock until TCP gave up, hours later; probing the client after 10 s idle, every
            # 5 s, three times, frees it for another host within about half a minute.
            for name, value in (("idle", 10), ("interval", 5), ("count", 3)):
                await self.connection.execute(text(f"SET tcp_keepalives_{name} = {value}"))
        got = await self.connection.scalar(select(func.pg_try_advisory_lock(ADVISORY_LOCK_KEY)))
        return bool(got)

    async def listen(self, wake: Callable[[], None]) -> None:
        # LISTEN on the lock's own connection: it lives exactly as long as the leadership.
        assert self.connection is not None
        raw = await self.connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None  # an open connection has its asyncpg connection
        await driver.add_listener(outbox.EVENTS_CHANNEL, lambda *_: wake())

    async def held(self) -> bool:
        if self.connection is None:
            return False
        try:
            await self.connection.execute(ALIVE)
        except Exception:
            await self.release()
            return False
        return True

    async def release(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                # Invalidated, not returned to the pool: the lock lives as long as the database
                # session, which must end rather than serve requests still holding it.
                await connection.invalidate()
                await connection.close()


class FileLock:
    """SQLite: an exclusive lock on a file beside the database (one host)."""

    told = False  # commits in this process nudge the runner; other workers' are looked for

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.fd: int | None = None

    async def acquire(self) -> bool:
        if self.path is None:
            return True  # an in-memory database has one process
        fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    async def held(self) -> bool:
        return True

    async def listen(self, wake: Callable[[], None]) -> None:
        pass  # no NOTIFY in SQLite: commits in this process nudge the runner directly

    async def release(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)  # the lock goes with the descriptor


def _until_due(ahead: WorkAhead, now: datetime) -> float:
    """Seconds to the next scheduled post or delivery, at most TOLD_LOOK_SECONDS."""
    wait = TOLD_LOOK_SECONDS
    for moment in (ahead.next_schedule, ahead.next_delivery):
        if moment is not None and moment > now:
            wait = min(wait, (moment - now).total_seconds())
    return wait


def leadership_for(db: Database, settings: Settings) -> Leadership:
    if db.dialect == "postgresql":
        return AdvisoryLock(db)
    database = settings.sqlite_path()
    return FileLock(None if database is None else f"{os.fspath(database)}.runner-lock")


class Runner:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.poll = settings.events_poll_seconds
        self.leadership = leadership_for(db, settings)
        self.dispatcher = Dispatcher(
            db,
            DispatchSettings(
                retry_schedule=settings.webhook_retry_schedule,
                timeout=settings.webhook_timeout_seconds,
                concurrency=settings.webhook_concurrency,
                disable_after=timedelta(seconds=settings.webhook_disable_after_seconds),
                allow_http=not settings.is_production,
                allow_private=settings.webhook_allow_private,
            ),
        )
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.leading = False
        self.last_pruned = utcnow() - PRUNE_EVERY
        self.next_look = 0.0  # time.monotonic() of the next look for new work

    def start(self) -> None:
        outbox.on_commit(self.nudge)
        self.task = asyncio.create_task(self._run(), name="broadsheet-runner")

    async def stop(self) -> None:
        outbox.off_commit(self.nudge)
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self.dispatcher.close()
        await self.leadership.release()

    def nudge(self) -> None:
        """Something was committed in this process: look now rather than at the next poll."""
        self.wake.set()

    async def _run(self) -> None:
        while True:
            # New work is looked for when nudged or at the time set by the last look; finished
            # attempts (the progress event) only need recording and their slots refilling.
            scan = self.wake.is_set() or time.monotonic() >= self.next_look
            self.wake.clear()
            self.dispatcher.progress.clear()
            try:
                if not self.leading:
                    self.leading = await self.leadership.acquire()
                    if self.leading:
                        log.info("this process runs scheduled posts and webhook deliveries")
                        await self.leadership.listen(self.nudge)
                if self.leading and await self.leadership.held():
                    await self.tick(scan=scan)
                else:
                    self.leading = False
            except asyncio.CancelledError:
                raise
            except Exception:
                # The database may be away for a while; the runner carries on when it is back.
                log.exception("the event runner failed; trying again")
                self.leading = self.leading and await self.leadership.held()
                self.next_look = time.monotonic() + self.poll  # not at once: not in a loop
            # (Not leading: try for the lock again in a poll.)
            wait = max(self.next_look - time.monotonic(), 0.0) if self.leading else self.poll
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._woken()

    async def _woken(self) -> None:
        wake = asyncio.create_task(self.wake.wait())
        progress = asyncio.create_task(self.dispatcher.progress.wait())
        try:
            await asyncio.wait({wake, progress}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            wake.cancel()
            progress.cancel()

    async def tick(self, *, scan: bool = True) -> None:
        """One round: (when `scan`) go live and fan out; record outcomes, send what is due,
        prune. A look that finds nothing due costs one statement (it was four), and where
        the database tells of new work (PostgreSQL) the next look is when the next scheduled
        post or delivery is due, or TOLD_LOOK_SECONDS on; elsewhere in a poll."""
        start = not scan  # woken by a finished attempt: its slot may take a due delivery
        if scan:
            async with self.db.read_sessions() as session:
                ahead = await DeliveryQueue(session).work_ahead()
            now = utcnow()
            if ahead.next_schedule is not None and ahead.next_schedule <= now:
                await self.publish_due()
            if ahead.events_waiting:
                while await self.dispatcher.fan_out():
                    start = True
            busy = ahead.due(now)
            start = start or busy
            self.next_look = time.monotonic() + (
                self.poll if busy or not self.leadership.told else _until_due(ahead, now)
            )
        await self.dispatcher.record()
        if start:
            await self.dispatcher.start_due()
        if utcnow() - self.last_pruned >= PRUNE_EVERY:
            await self.prune()

    async def publish_due(self) -> int:
        """Scheduled posts and pages whose time has come become PUBLISHED, announcing
        themselves (post.published, site.changed) in the same transaction, exactly once."""
        now = utcnow()
        async with self.db.read_sessions() as session:
            if not await DeliveryQueue(session).due_schedules(now=now, limit=1, lock=False):
                return 0
        async with self.db.write_sessions.begin() as session:
            posts = await DeliveryQueue(session).due_schedules(now=now, limit=SCHEDULE_BATCH)
            if posts:
                Post = models.Post
                # updated_at stays: going live on schedule is not an edit.
                await session.execute(
                    update(Post)
                    .where(Post.id.in_([post.id for post in posts]))
                    .values(status=models.PostStatus.PUBLISHED, updated_at=Post.updated_at)
                    .execution_options(synchronize_session=False)
                )
                for post in posts:
                    events.content_went_live(session, post)
        return len(posts)

    async def prune(self) -> None:
        now = utcnow()
        async with self.db.write_sessions.begin() as session:
            await DeliveryQueue(session).prune(
                succeeded_before=now
                - timedelta(days=self.settings.events_delivered_retention_days),
                failed_before=now - timedelta(days=self.settings.events_failed_retention_days),
            )
        self.last_pruned = now
