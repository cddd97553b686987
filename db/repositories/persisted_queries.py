"""Persisted GraphQL documents by SHA-256, shared by every worker through the database."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.base import utcnow

Stored = models.PersistedQuery


class PersistedQueryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, sha256: str) -> models.PersistedQuery | None:
        return await self.session.get(Stored, sha256)

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(Stored)) or 0)

    async def add(self, sha256: str, document: str, *, registered: bool = False) -> None:
        """Store a document; storing one that is there already is no error (another worker may
        have stored it a moment ago). Registering marks an existing row as registered."""
        insert = sqlite_insert if self.session.get_bind().dialect.name == "sqlite" else pg_insert
        stmt = insert(Stored).values(
            sha256=sha256, document=document, registered=registered, created_at=utcnow()
        )
        if registered:
            stmt = stmt.on_conflict_do_update(
                index_elements=[Stored.sha256], set_={"registered": True}
            )
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=[Stored.sha256])
        await self.session.execute(stmt)
