"""Health checks: readiness reflects the database and the migrations; liveness is cheap."""

from __future__ import annotations

import time

import httpx
from sqlalchemy import text

from db.engine import Database
from service import migrations
from service.app import close_app, create_app
from service.settings import Settings


async def test_ready_when_the_database_is_at_head(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthcheck")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "migrations": "head",
        "version": "0.1.0",
    }


async def test_not_ready_when_migrations_are_behind(
    client: httpx.AsyncClient, db: Database
) -> None:
    head = migrations.head_revision()
    async with db.write_sessions.begin() as session:
        await session.execute(text("UPDATE alembic_version SET version_num = 'old'"))
    try:
        response = await client.get("/healthcheck")
    finally:  # on PostgreSQL the database outlives the test
        async with db.write_sessions.begin() as session:
            await session.execute(
                text("UPDATE alembic_version SET version_num = :head"), {"head": head}
            )

    assert response.status_code == 503
    assert response.json()["migrations"] == "behind"


async def test_not_ready_fast_when_the_database_is_unreachable(tmp_path: object) -> None:
    unreachable = "postgresql+asyncpg://postgres@127.0.0.1:1/none"
    app = create_app(
        Settings(database_url=unreachable, healthcheck_timeout_seconds=1.0, _env_file=None)
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        started = time.monotonic()
        response = await client.get("/healthcheck")
        elapsed = time.monotonic() - started
        live = await client.get("/healthcheck/live")
    await close_app(app)

    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"
    assert elapsed < 1.5
    assert live.status_code == 200
    assert live.json() == {"status": "ok"}
