"""Tags: lookups and filtered, ordered connections within what the caller may see."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.repositories.filters import (
    Order,
    TagFilter,
    TagOrderField,
    combine,
    enum_clause,
    string_clause,
)
from db.repositories.pagination import PageArgs, Slice, SortKey, fetch_slice
from db.repositories.scope import Scope

Tag = models.Tag
DEFAULT_ORDER = (Order(TagOrderField.NAME),)


class TagRepository:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    def visible(self) -> Select[models.Tag]:
        return select(Tag).where(self.scope.tags)

    def post_count(self) -> ColumnElement[int]:
        """Visible posts carrying the tag, as a correlated subquery for ordering."""
        return (
            select(func.count())
            .select_from(models.PostTag)
            .join(models.Post, models.Post.id == models.PostTag.post_id)
            .where(
                models.PostTag.tag_id == Tag.id,
                models.Post.type == models.PostType.POST,
                self.scope.posts,
            )
            .scalar_subquery()
        )

    def filter_clause(self, f: TagFilter | None) -> ColumnElement[bool]:
        return true() if f is None else combine(f, _own_clauses)

    def sort_keys(self, order: Sequence[Order[TagOrderField]]) -> list[SortKey]:
        keys = []
        for term in order or DEFAULT_ORDER:
            if term.field is TagOrderField.NAME:
                keys.append(SortKey("name", Tag.name, term.descending))
            else:
                keys.append(SortKey("posts", self.post_count(), term.descending, kind=int))
        return [*keys, SortKey("id", Tag.id, keys[-1].descending, kind=int)]

    async def get(self, *, id: int | None = None, slug: str | None = None) -> models.Tag | None:
        stmt = self.visible()
        if id is not None:
            stmt = stmt.where(Tag.id == id)
        if slug is not None:
            stmt = stmt.where(Tag.slug == slug)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get_many(self, ids: Sequence[int]) -> dict[int, models.Tag]:
        rows = await self.session.scalars(self.visible().where(Tag.id.in_(ids)))
        return {tag.id: tag for tag in rows}

    async def page(
        self,
        args: PageArgs,
        *,
        filter: TagFilter | None = None,
        order: Sequence[Order[TagOrderField]] = (),
    ) -> Slice[models.Tag]:
        stmt = self.visible().where(self.filter_clause(filter))
        return await fetch_slice(self.session, stmt, self.sort_keys(order), args)

    async def count(self, *, filter: TagFilter | None = None) -> int:
        stmt = select(func.count()).select_from(Tag).where(self.scope.tags)
        return (await self.session.execute(stmt.where(self.filter_clause(filter)))).scalar_one()


def _own_clauses(f: TagFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if f.slug is not None:
        clauses.append(string_clause(Tag.slug, f.slug))
    if f.name is not None:
        clauses.append(string_clause(Tag.name, f.name))
    if f.visibility is not None:
        clauses.append(enum_clause(f.visibility, lambda v: Tag.visibility == v))
    return clauses
