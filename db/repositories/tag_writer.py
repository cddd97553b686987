"""Writes to tags within the caller's transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.repositories.scope import Scope

Tag = models.Tag


class TagWriter:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    async def get_for_update(self, id: int) -> models.Tag | None:
        stmt = select(Tag).where(Tag.id == id, self.scope.tags).with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def slug_taken(self, slug: str, *, except_id: int | None = None) -> bool:
        stmt = select(Tag.id).where(Tag.slug == slug, Tag.id != except_id)
        return (await self.session.scalar(stmt.limit(1))) is not None

    async def slugs_like(self, base: str) -> set[str]:
        stmt = select(Tag.slug).where(
            (Tag.slug == base) | Tag.slug.startswith(f"{base}-", autoescape=True)
        )
        return set(await self.session.scalars(stmt))

    async def add(self, tag: models.Tag) -> models.Tag:
        self.session.add(tag)
        await self.session.flush()
        return tag

    async def delete(self, tag: models.Tag) -> None:
        # Its links to posts go with it (ON DELETE CASCADE); the posts stay.
        await self.session.delete(tag)
        await self.session.flush()
