"""Where the compiled path runs its statements: its own connections to the database, one kind
per dialect, each answering `fetchrow` and `fetchval` with the driver's positional
parameters."""

from __future__ import annotations

import sqlite3

import asyncpg
from sqlalchemy.engine import URL

from graphql_schema.compiled.read_pool import ReadPool
from graphql_schema.compiled.sqlite_reads import SqliteReads

# What a failing database raises here; the caller lets the general path answer instead.
DATABASE_ERRORS = (
    TimeoutError,
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    sqlite3.Error,
)


Reads = ReadPool | SqliteReads


def open_reads(url: URL, *, timeout: float) -> Reads:
    if url.get_backend_name() == "sqlite":
        return SqliteReads(url, timeout=timeout)
    return ReadPool(url, timeout=timeout)
