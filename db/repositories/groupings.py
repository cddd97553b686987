"""Tags and authors: the two ways posts are grouped, read within what the caller may see.

The two differ only in their table, the link table that ties them to posts, who may see them
and the filters each offers (`TagRepository` and `AuthorRepository` say which); lookups,
filtered and ordered pages, counts, and the order by how many posts each groups are written
once, in `GroupingRepository`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.repositories.filters import (
    AuthorFilter,
    AuthorOrderField,
    Order,
    TagFilter,
    TagOrderField,
    combine,
    enum_clause,
    string_clause,
)
from db.repositories.pagination import PageArgs, Slice, SortKey, fetch_slice
from db.repositories.posts import Link, PostRepository
from db.repositories.scope import Scope

Row = TypeVar("Row", models.Tag, models.User)
Filter = TypeVar("Filter", TagFilter, AuthorFilter)
OrderField = TypeVar("OrderField", TagOrderField, AuthorOrderField)


class GroupingRepository(Generic[Row, Filter, OrderField]):
    def __init__(
        self,
        session: AsyncSession,
        scope: Scope,
        *,
        entity: type[Row],
        link: Link,
        visible: ColumnElement[bool],
        own_clauses: Callable[[Filter], list[ColumnElement[bool]]],
    ) -> None:
        self.session = session
        self.scope = scope
        self.entity: type[Row] = entity
        self.link = link
        self._visible = visible
        self._own_clauses: Callable[[Filter], list[ColumnElement[bool]]] = own_clauses

    def visible(self) -> Select[Row]:
        return select(self.entity).where(self._visible)

    def post_count(self) -> ColumnElement[int]:
        """Visible posts in the grouping, as a correlated subquery for ordering (the count
        `postCount` shows: PostRepository.linked)."""
        linked, parent = PostRepository(self.session, self.scope).linked(self.link, None)
        return (
            linked.with_only_columns(func.count()).where(parent == self.entity.id).scalar_subquery()
        )

    def filter_clause(self, f: Filter | None) -> ColumnElement[bool]:
        return true() if f is None else combine(f, self._own_clauses)

    def sort_keys(self, order: Sequence[Order[OrderField]]) -> list[SortKey]:
        """By name unless ordered; the id last, so the order is total."""
        keys: list[SortKey] = [
            SortKey("name", self.entity.name, term.descending)
            if term.field in (TagOrderField.NAME, AuthorOrderField.NAME)
            else SortKey("posts", self.post_count(), term.descending, kind=int)
            for term in order
        ] or [SortKey("name", self.entity.name, descending=False)]
        return [*keys, SortKey("id", self.entity.id, keys[-1].descending, kind=int)]

    async def get(self, *, id: int | None = None, slug: str | None = None) -> Row | None:
        stmt = self.visible()
        if id is not None:
            stmt = stmt.where(self.entity.id == id)
        if slug is not None:
            stmt = stmt.where(self.entity.slug == slug)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get_many(self, ids: Sequence[int]) -> dict[int, Row]:
        rows = await self.session.scalars(self.visible().where(self.entity.id.in_(ids)))
        return {row.id: row for row in rows}

    async def page(
        self,
        args: PageArgs,
        *,
        filter: Filter | None = None,
        order: Sequence[Order[OrderField]] = (),
    ) -> Slice[Row]:
        stmt = self.visible().where(self.filter_clause(filter))
        return await fetch_slice(self.session, stmt, self.sort_keys(order), args)

    async def count(self, *, filter: Filter | None = None) -> int:
        stmt = select(func.count()).select_from(self.entity).where(self._visible)
        return (await self.session.execute(stmt.where(self.filter_clause(filter)))).scalar_one()


class TagRepository(GroupingRepository[models.Tag, TagFilter, TagOrderField]):
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        super().__init__(
            session,
            scope,
            entity=models.Tag,
            link=models.PostTag,
            visible=scope.tags,
            own_clauses=_tag_clauses,
        )


class AuthorRepository(GroupingRepository[models.User, AuthorFilter, AuthorOrderField]):
    """Authors are the public profiles of staff users."""

    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        super().__init__(
            session,
            scope,
            entity=models.User,
            link=models.PostAuthor,
            visible=scope.authors,
            own_clauses=_author_clauses,
        )


def _tag_clauses(f: TagFilter) -> list[ColumnElement[bool]]:
    clauses = _name_clauses(models.Tag, f)
    if f.visibility is not None:
        clauses.append(enum_clause(f.visibility, lambda v: models.Tag.visibility == v))
    return clauses


def _author_clauses(f: AuthorFilter) -> list[ColumnElement[bool]]:
    return _name_clauses(models.User, f)


def _name_clauses(
    entity: type[models.Tag] | type[models.User], f: TagFilter | AuthorFilter
) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if f.slug is not None:
        clauses.append(string_clause(entity.slug, f.slug))
    if f.name is not None:
        clauses.append(string_clause(entity.name, f.name))
    return clauses
