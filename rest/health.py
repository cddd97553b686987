"""Health checks: liveness (the process runs) and readiness (database up, schema at head)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from db.engine import Database
from rest.deps import DatabaseDep, SettingsDep
from service import migrations

router = APIRouter(tags=["health"])
VERSION = "0.1.0"


async def _stored_revision(db: Database) -> str | None:
    async with db.engine.connect() as connection:
        result = await connection.execute(text("SELECT version_num FROM alembic_version"))
        return result.scalar_one_or_none()


@router.get("/healthcheck")
async def readiness(db: DatabaseDep, settings: SettingsDep) -> JSONResponse:
    """Ready to serve: the database answers and its schema is at the newest migration."""
    body: dict[str, Any] = {"status": "ok", "database": "ok", "migrations": "head"}
    body["version"] = VERSION
    try:
        stored = await asyncio.wait_for(
            _stored_revision(db), timeout=settings.healthcheck_timeout_seconds
        )
    except Exception:
        body.update(status="unavailable", database="unavailable", migrations="unknown")
        return JSONResponse(body, status_code=503)
    if stored != migrations.head_revision():
        body.update(status="unavailable", migrations="behind")
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)


@router.get("/healthcheck/live")
async def liveness() -> dict[str, str]:
    """The process is running; touches nothing else."""
    return {"status": "ok"}
