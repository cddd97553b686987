"""Staff users as staff see them (emails, roles, status). Callers check the policy first."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.repositories.filters import UserFilter, enum_clause, string_clause
from db.repositories.pagination import Page, PageArgs, SortKey, fetch_page

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

    async def page(self, args: PageArgs, *, filter: UserFilter | None = None) -> Page[models.User]:
        stmt = select(User).where(*_clauses(filter))
        return await fetch_page(self.session, stmt, SORT_KEYS, args)

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
