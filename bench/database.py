"""The benchmark database: create it, migrate it, seed it, settle it, name its version."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import asyncpg
from errors import BenchError
from sqlalchemy import func, select
from sqlalchemy.engine import URL, make_url

from db import models
from db.engine import Database
from service import migrations
from service.seeding import BENCH, seed


def absolute_sqlite_url(url: str) -> str:
    """The same URL, with a relative SQLite path made absolute (the server runs elsewhere)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return url
    if parsed.database in (None, "", ":memory:"):
        raise BenchError("an in-memory SQLite database cannot be shared with the server process")
    absolute = parsed.set(database=str(Path(parsed.database).resolve()))
    return absolute.render_as_string(hide_password=False)


def is_postgresql(url: URL) -> bool:
    return url.get_backend_name() == "postgresql"


async def connect_postgresql(url: URL, database: str | None) -> asyncpg.Connection:
    return await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, database=database
    )


async def ensure_postgresql_database(url: URL) -> None:
    """Create the database `url` names, connecting to the `postgres` database to do it."""
    connection = await connect_postgresql(url, "postgres")
    try:
        exists = await connection.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", url.database
        )
        if not exists:
            name = str(url.database).replace('"', '""')
            await connection.execute(f'CREATE DATABASE "{name}"')
            print(f"Created PostgreSQL database {url.database!r}.")
    finally:
        await connection.close()


async def drop_peer_schema(url: URL) -> None:
    """Drop the `bench_peer` schema bench/compare.py makes: its function depends on `posts`,
    which would stop `alembic downgrade base` from dropping the table."""
    connection = await connect_postgresql(url, url.database)
    try:
        await connection.execute("DROP SCHEMA IF EXISTS bench_peer CASCADE")
    finally:
        await connection.close()


async def settle_postgresql(url: URL) -> None:
    """Gather planner statistics, as autovacuum would soon after seeding (when it is on), and
    write the bulk load out now rather than in the background during the timed runs."""
    connection = await connect_postgresql(url, url.database)
    try:
        await connection.execute("ANALYZE")
        try:
            await connection.execute("CHECKPOINT")
        except asyncpg.InsufficientPrivilegeError:
            print("(CHECKPOINT needs a superuser or pg_checkpoint: skipped)")
    finally:
        await connection.close()


async def _count(db: Database, statement: Any) -> int:
    async with db.read_sessions() as session:
        return int(await session.scalar(statement) or 0)


async def content_state(url: str) -> str:
    """'bench' when the database holds the benchmark data set, 'empty', or 'other'."""
    db = Database.connect(url)
    try:
        users = await _count(db, select(func.count()).select_from(models.User))
        tags = await _count(db, select(func.count()).select_from(models.Tag))
        posts = await _count(
            db,
            select(func.count())
            .select_from(models.Post)
            .where(models.Post.type == models.PostType.POST)
            .where(models.Post.status == models.PostStatus.PUBLISHED),
        )
        links = await _count(db, select(func.count()).select_from(models.PostTag))
    finally:
        await db.dispose()
    if (users, tags, posts, links) == (
        BENCH.authors,
        BENCH.tags,
        BENCH.posts,
        BENCH.posts * BENCH.tags_per_post,
    ):
        return "bench"
    return "empty" if users == tags == posts == 0 else "other"


async def seed_bench(url: str) -> None:
    db = Database.connect(url)
    try:
        await seed(db, BENCH)
    finally:
        await db.dispose()


def prepare_database(url: str, *, reset: bool) -> None:
    """Migrate to head and seed the benchmark data set unless the database already holds it."""
    parsed = make_url(url)
    if is_postgresql(parsed):
        asyncio.run(ensure_postgresql_database(parsed))
    if reset:
        if is_postgresql(parsed):
            asyncio.run(drop_peer_schema(parsed))
        print("Emptying the database (alembic downgrade base) ...")
        migrations.downgrade(url, "base")
    migrations.upgrade(url)
    seed_unless_present(url)
    if is_postgresql(parsed):
        print("ANALYZE (planner statistics, as autovacuum would gather them) and CHECKPOINT.")
        asyncio.run(settle_postgresql(parsed))


def seed_unless_present(url: str) -> None:
    state = asyncio.run(content_state(url))
    if state == "bench":
        print("The database already holds the benchmark data set: not seeding.")
        return
    if state == "other":
        raise BenchError(
            "the database holds content other than the benchmark data set; "
            "pass --reset to empty it (this deletes everything in it)"
        )
    print(
        f"Seeding {BENCH.posts:,} posts, {BENCH.authors} authors, {BENCH.tags} tags "
        f"({BENCH.tags_per_post} tags per post) ..."
    )
    started = time.perf_counter()
    asyncio.run(seed_bench(url))
    print(f"Seeded in {time.perf_counter() - started:.1f} s.")


def database_version(url: str) -> str:
    parsed = make_url(url)
    if not is_postgresql(parsed):
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"

    async def fetch() -> str:
        connection = await connect_postgresql(parsed, parsed.database)
        try:
            return str(await connection.fetchval("SHOW server_version"))
        finally:
            await connection.close()

    return f"PostgreSQL {asyncio.run(fetch()).split()[0]}"
