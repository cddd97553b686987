"""Authors: the public profiles of staff users, within what the caller may see."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.repositories.filters import AuthorFilter, AuthorOrderField, Order, combine, string_clause
from db.repositories.pagination import PageArgs, Slice, SortKey, fetch_slice
from db.repositories.scope import Scope

User = models.User
DEFAULT_ORDER = (Order(AuthorOrderField.NAME),)


class AuthorRepository:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    def visible(self) -> Select[models.User]:
        return select(User).where(self.scope.authors)

    def post_count(self) -> ColumnElement[int]:
        """Visible posts by the author, as a correlated subquery for ordering."""
        return (
            select(func.count())
            .select_from(models.PostAuthor)
            .join(models.Post, models.Post.id == models.PostAuthor.post_id)
            .where(
                models.PostAuthor.author_id == User.id,
                models.Post.type == models.PostType.POST,
                self.scope.posts,
            )
            .scalar_subquery()
        )

    def filter_clause(self, f: AuthorFilter | None) -> ColumnElement[bool]:
        return true() if f is None else combine(f, _own_clauses)

    def sort_keys(self, order: Sequence[Order[AuthorOrderField]]) -> list[SortKey]:
        keys = []
        for term in order or DEFAULT_ORDER:
            if term.field is AuthorOrderField.NAME:
                keys.append(SortKey("name", User.name, term.descending))
            else:
                keys.append(SortKey("posts", self.post_count(), term.descending, kind=int))
        return [*keys, SortKey("id", User.id, keys[-1].descending, kind=int)]

    async def get(self, *, id: int | None = None, slug: str | None = None) -> models.User | None:
        stmt = self.visible()
        if id is not None:
            stmt = stmt.where(User.id == id)
        if slug is not None:
            stmt = stmt.where(User.slug == slug)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get_many(self, ids: Sequence[int]) -> dict[int, models.User]:
        rows = await self.session.scalars(self.visible().where(User.id.in_(ids)))
        return {user.id: user for user in rows}

    async def page(
        self,
        args: PageArgs,
        *,
        filter: AuthorFilter | None = None,
        order: Sequence[Order[AuthorOrderField]] = (),
    ) -> Slice[models.User]:
        stmt = self.visible().where(self.filter_clause(filter))
        return await fetch_slice(self.session, stmt, self.sort_keys(order), args)

    async def count(self, *, filter: AuthorFilter | None = None) -> int:
        stmt = select(func.count()).select_from(User).where(self.scope.authors)
        return (await self.session.execute(stmt.where(self.filter_clause(filter)))).scalar_one()


def _own_clauses(f: AuthorFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if f.slug is not None:
        clauses.append(string_clause(User.slug, f.slug))
    if f.name is not None:
        clauses.append(string_clause(User.name, f.name))
    return clauses
