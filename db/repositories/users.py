"""Staff users as staff see them (emails, roles, status). Callers check the policy first."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.repositories.filters import UserFilter, enum_clause, string_clause
from db.repositories.pagination import PageArgs, Slice, SortKey, fetch_slice

User = models.User
SORT_KEYS = [SortKey("name", User.name, False), SortKey("id", User.id, False, kind=int)]


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, id: int) -> models.User | None:
        return await self.session.get(User, id)

    async def get_many(self, ids: Sequence[int]) -> dict[int, models.User]:
        rows = await self.session.scalars(select(User).where(User.id.in_(ids)))
        return {user.id: user for user in rows}

    async def by_email(self, email: str) -> models.User | None:
        stmt = select(User).where(func.lower(User.email) == email.lower())
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def page(self, args: PageArgs, *, filter: UserFilter | None = None) -> Slice[models.User]:
        stmt = select(User).where(*_clauses(filter))
        return await fetch_slice(self.session, stmt, SORT_KEYS, args)

    async def count(self, *, filter: UserFilter | None = None) -> int:
        stmt = select(func.count()).select_from(User).where(*_clauses(filter))
        return (await self.session.execute(stmt)).scalar_one()


def _clauses(f: UserFilter | None) -> list[ColumnElement[bool]]:
    if f is None:
        return []
    clauses: list[ColumnElement[bool]] = []
    if f.role is not None:
        clauses.append(enum_clause(f.role, lambda role: User.role == role))
    if f.status is not None:
        clauses.append(enum_clause(f.status, lambda status: User.status == status))
    if f.email is not None:
        clauses.append(string_clause(User.email, f.email))
    return clauses


class StaffWriter:
    """Writes to staff accounts, within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def any_exist(self) -> bool:
        return (await self.session.scalar(select(func.count()).select_from(User))) != 0

    async def owner(self) -> models.User | None:
        stmt = select(User).where(User.role == models.Role.OWNER)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get_for_update(self, id: int) -> models.User | None:
        return await self.session.get(User, id, with_for_update=True)

    async def email_taken(self, email: str, *, except_id: int | None = None) -> bool:
        stmt = select(User.id).where(func.lower(User.email) == email.lower(), User.id != except_id)
        return (await self.session.scalar(stmt.limit(1))) is not None

    async def slug_taken(self, slug: str, *, except_id: int | None = None) -> bool:
        stmt = select(User.id).where(User.slug == slug, User.id != except_id)
        return (await self.session.scalar(stmt.limit(1))) is not None

    async def add(self, user: models.User) -> models.User:
        self.session.add(user)
        await self.session.flush()
        return user

    async def delete(self, user: models.User, *, posts_to: int) -> None:
        """Delete `user`; posts they wrote pass to `posts_to` (kept where already a co-author)."""
        link = models.PostAuthor
        co_authored = select(link.post_id).where(link.author_id == posts_to)
        await self.session.execute(
            update(link)
            .where(link.author_id == user.id, link.post_id.not_in(co_authored))
            .values(author_id=posts_to)
        )
        await self.session.delete(user)
        await self.session.flush()
