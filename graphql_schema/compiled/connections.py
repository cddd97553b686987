"""The compiled path's own asyncpg pool: one statement per request, no transaction, nothing
left on the session, so connections need neither a ping before use nor a reset after (the
general path's SQLAlchemy pool pings each checkout, three round trips)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from sqlalchemy.engine import URL

POOL_SIZE = 10
# What a failing database raises here; the caller lets the general path answer instead.
DATABASE_ERRORS = (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


class ReadPool:
    def __init__(self, url: URL, *, timeout: float) -> None:
        self.dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.timeout = timeout
        self._pool: asyncpg.Pool | None = None
        self._connecting = asyncio.Lock()

    async def fetchval(self, sql: str, *args: Any) -> Any:
        pool = self._pool or await self._connect()
        async with pool.acquire(timeout=self.timeout) as connection:
            return await connection.fetchval(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        pool = self._pool or await self._connect()
        async with pool.acquire(timeout=self.timeout) as connection:
            return await connection.fetchrow(sql, *args)

    async def _connect(self) -> asyncpg.Pool:
        async with self._connecting:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self.dsn,
                    min_size=1,
                    max_size=POOL_SIZE,
                    timeout=self.timeout,
                    command_timeout=self.timeout,
                    reset=_nothing_to_reset,
                )
            return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()


async def _nothing_to_reset(connection: asyncpg.Connection) -> None:
    return None
