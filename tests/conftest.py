"""Fixtures: a migrated database per test (SQLite by default, PostgreSQL when
BROADSHEET_TEST_DATABASE_URL is set), the ASGI app, an httpx client, and a SQL counter."""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine

from db import models
from db.engine import Database
from graphql_schema.compiled.generation import LISTENER_TASK
from service import migrations
from service.app import close_app, create_app
from service.settings import Settings

POSTGRES_URL = os.environ.get("BROADSHEET_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate once per run: a template SQLite file, or the PostgreSQL test database."""
    if POSTGRES_URL:
        asyncio.run(_reset_schema(POSTGRES_URL))
        migrations.upgrade(POSTGRES_URL)
        return POSTGRES_URL
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite+aiosqlite:///{path}"
    migrations.upgrade(url)
    return url


async def _reset_schema(url: str) -> None:
    """Start from nothing, whatever an earlier (perhaps aborted) run left behind."""
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def _truncate(url: str) -> None:
    engine = create_async_engine(url)
    tables = ", ".join(table.name for table in models.Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture
def database_url(migrated_template: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, empty database for one test."""
    if POSTGRES_URL:
        asyncio.run(_truncate(POSTGRES_URL))
        yield POSTGRES_URL
        return
    source = Path(migrated_template.removeprefix("sqlite+aiosqlite:///"))
    target = tmp_path / "broadsheet.db"
    shutil.copy(source, target)
    yield f"sqlite+aiosqlite:///{target}"


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Test settings over `database_url`, with `overrides`."""
    # Verify: every query the compiled path answers is answered by the general path too, and
    # the two bodies must be identical (on SQLite and on PostgreSQL alike).
    fields: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": "x" * 48,
        "compiled_queries": "verify",
        **overrides,
    }
    return Settings(**fields, _env_file=None)


@pytest.fixture
def settings(database_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Test settings (uploads kept in the test's own directory); a test changes some with
    `@pytest.mark.parametrize("settings", [{...}], indirect=True)`."""
    overrides = {"media_dir": tmp_path / "media", **getattr(request, "param", {})}
    return make_settings(database_url, **overrides)


# Responses the compiled path gave and the general path matched byte for byte (verify mode).
VERIFIED_RESPONSES = [0]


SETTLE_SECONDS = 5.0


async def _settle_tasks() -> None:
    """Let work a test started finish before its engine is disposed: a task still holding a
    connection when the pool goes away can wait forever when the loop closes (CI hung twice
    there, after the fuzz tests). What is still running after a few seconds is reported."""
    current = asyncio.current_task()
    pending = [
        task
        for task in asyncio.all_tasks()
        if task is not current and not task.done() and task.get_name() != LISTENER_TASK
    ]
    if not pending:
        return
    _, still = await asyncio.wait(pending, timeout=SETTLE_SECONDS)
    for task in still:
        print(f"task still running after the test: {task!r}", file=sys.stderr)
        task.print_stack(file=sys.stderr)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    yield application
    await _settle_tasks()
    queries = getattr(application.state, "compiled_queries", None)
    if queries is not None and settings.compiled_queries == "verify":
        VERIFIED_RESPONSES[0] += queries.answered
    await close_app(application)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.write_line(
        f"compiled path: {VERIFIED_RESPONSES[0]} responses identical to the general path's"
    )


@pytest.fixture
async def second_worker(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Another app on the same database(s), with the same settings: a second worker, with its
    own memory (caches, the generation, what the cache front keeps)."""
    other = create_app(settings)
    transport = httpx.ASGITransport(app=other)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await close_app(other)


@pytest.fixture
def db(app: FastAPI) -> Database:
    """The app's own database handle, for factories and checks afterwards."""
    database: Database = app.state.db
    return database


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


class StatementCounter:
    """Counts SQL statements the app sends (BEGIN/COMMIT and PRAGMAs aside)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(("PRAGMA", "BEGIN", "COMMIT", "ROLLBACK")):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)

    def reset(self) -> None:
        self.statements.clear()


@pytest.fixture
def sql(db: Database) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    event.listen(db.engine.sync_engine, "before_cursor_execute", counter)
    yield counter
    event.remove(db.engine.sync_engine, "before_cursor_execute", counter)


@pytest.fixture
def as_staff(app: FastAPI, db: Database) -> Any:
    """`await as_staff(Role.EDITOR)` → (user, headers carrying a valid access token)."""
    from tests.factories import create_user

    async def make(
        role: models.Role, name: str | None = None
    ) -> tuple[models.User, dict[str, str]]:
        user = await create_user(db, role=role, name=name)
        token = app.state.authenticator.signer.issue(user_id=user.id, token_version=0)
        return user, {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def frozen_heap() -> Iterator[None]:
    """As the server starts (service.app's lifespan): what exists at start-up is moved out of
    the collector's sight. Otherwise a full collection, set off by the allocations of a big
    validation in its thread, scans the whole test process with the interpreter held."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.fixture(params=["anonymous", "staff"])
async def caller(request: pytest.FixtureRequest, as_staff: Any) -> dict[str, str]:
    """Each test twice: anonymous (the compiled path's reader, on PostgreSQL) and as an
    editor (always the general path). The value is the request's headers."""
    if request.param == "anonymous":
        return {}
    _, headers = await as_staff(models.Role.EDITOR)
    return dict(headers)
