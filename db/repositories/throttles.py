"""Counters of failed sign-ins, kept in the database so every worker shares them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from db import models

Throttle = models.LoginThrottle


class ThrottleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_many(self, keys: Sequence[str]) -> list[models.LoginThrottle]:
        return list(await self.session.scalars(select(Throttle).where(Throttle.key.in_(keys))))

    async def add_failure(self, key: str, *, now: datetime) -> tuple[int, datetime | None]:
        """Count one more failure atomically (an upsert, which also locks the row until the
        transaction ends); return the new count and the block in force before it."""
        assert self.session.bind is not None  # every session is made bound to an engine
        insert = sqlite_insert if self.session.bind.dialect.name == "sqlite" else pg_insert
        stmt = insert(Throttle).values(key=key, failures=1, updated_at=now)
        upsert = stmt.on_conflict_do_update(
            index_elements=[Throttle.key],
            set_={"failures": Throttle.failures + 1, "updated_at": now},
        ).returning(Throttle.failures, Throttle.blocked_until)
        failures, blocked_until = (await self.session.execute(upsert)).one()
        return int(failures), blocked_until

    async def block(self, key: str, *, until: datetime) -> None:
        throttle = await self.session.get(Throttle, key)
        if throttle is not None:
            throttle.blocked_until = until

    async def clear(self, key: str) -> None:
        await self.session.execute(delete(Throttle).where(Throttle.key == key))
