"""Engines and sessionmakers, with the per-dialect set-up SQLite needs under concurrency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# Imported for their listeners: a transaction's recorded events are written as it commits,
# and this process hears at once of its own commits that changed content.
import db.changes
import db.outbox  # noqa: F401

SQLITE_BUSY_TIMEOUT_MS = 5000
# The most of the file mapped (address space, not memory: the kernel keeps what is read).
SQLITE_MMAP_BYTES = 1 << 30
_WRITE_OPTION = "broadsheet_write"


def _configure_sqlite(engine: AsyncEngine) -> None:
    # pysqlite's own transaction handling never takes the write lock up front, so two writers
    # can both read, then one fails with "database is locked" or overwrites the other. We issue
    # BEGIN ourselves: IMMEDIATE for write sessions, DEFERRED for reads.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        configure_sqlite_connection(dbapi_connection)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def configure_sqlite_connection(connection: Any) -> None:
    """What every connection to the SQLite file needs, whichever code opened it (a sqlite3
    connection, or aiosqlite's stand-in for one)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Pages are read from the file mapped into memory: without it, each page missing from
    # SQLite's own cache (2 MB a connection) is a read() call, and a site's working set
    # is larger (10,000 posts: a tag archive made about 100 such calls, 0.3 ms of CPU).
    cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cursor.close()
    # SQLite's lower() folds ASCII only; case-insensitive filters must match PostgreSQL's.
    connection.create_function("lower", 1, _unicode_lower, deterministic=True)


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def create_engine(
    url: str, *, echo: bool = False, pool_size: int = 20, timeout: float = 5.0
) -> AsyncEngine:
    """Create the async engine for `url`, configured for its dialect. `timeout` bounds
    waiting for a pooled connection, connecting and each statement, so no request hangs
    on a database that stopped answering."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo, pool_timeout=timeout)
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=timeout,
        connect_args={"timeout": timeout, "command_timeout": timeout},
    )


@dataclass(frozen=True)
class Database:
    """One engine and its two sessionmakers: reads, and writes that lock up front on SQLite.
    With a read replica, `public` is the view anonymous readers get: reads on the replica,
    writes still on the primary."""

    engine: AsyncEngine
    read_sessions: async_sessionmaker[AsyncSession]
    write_sessions: async_sessionmaker[AsyncSession]
    replica: Database | None = None

    @classmethod
    def connect(
        cls, url: str, *, read_url: str | None = None, echo: bool = False, timeout: float = 5.0
    ) -> Database:
        engine = create_engine(url, echo=echo, timeout=timeout)
        write_engine = engine.execution_options(**{_WRITE_OPTION: True})
        write_sessions = async_sessionmaker(write_engine, expire_on_commit=False)
        replica = None
        if read_url:
            read_engine = create_engine(read_url, echo=echo, timeout=timeout)
            replica = cls(
                engine=read_engine,
                read_sessions=async_sessionmaker(read_engine, expire_on_commit=False),
                write_sessions=write_sessions,
            )
        return cls(
            engine=engine,
            read_sessions=async_sessionmaker(engine, expire_on_commit=False),
            write_sessions=write_sessions,
            replica=replica,
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def public(self) -> Database:
        """Where anonymous reads go: the replica when there is one."""
        return self.replica or self

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.replica is not None:
            await self.replica.engine.dispose()
