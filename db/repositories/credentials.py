"""Refresh tokens and API keys, looked up by the digest of their secret."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import models

Token = models.RefreshToken
Key = models.ApiKey


class RefreshTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, *, user_id: int, family: str, token_hash: str, expires_at: datetime
    ) -> models.RefreshToken:
        token = Token(user_id=user_id, family=family, token_hash=token_hash, expires_at=expires_at)
        self.session.add(token)
        await self.session.flush()
        return token

    async def by_hash(self, token_hash: str) -> models.RefreshToken | None:
        return (
            await self.session.execute(select(Token).where(Token.token_hash == token_hash))
        ).scalar_one_or_none()

    async def revoke(self, token_id: int, *, now: datetime) -> bool:
        """Revoke one live token; False when it was already revoked (by a concurrent caller)."""
        result = await self.session.execute(
            update(Token)
            .where(Token.id == token_id, Token.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def revoke_family(self, family: str, *, now: datetime) -> None:
        await self.session.execute(
            update(Token)
            .where(Token.family == family, Token.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def revoke_user(self, user_id: int, *, now: datetime) -> None:
        await self.session.execute(
            update(Token)
            .where(Token.user_id == user_id, Token.revoked_at.is_(None))
            .values(revoked_at=now)
        )


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        *,
        name: str,
        scope: models.ApiKeyScope,
        key_hash: str,
        prefix: str,
        created_by_id: int | None,
    ) -> models.ApiKey:
        key = Key(
            name=name, scope=scope, key_hash=key_hash, prefix=prefix, created_by_id=created_by_id
        )
        self.session.add(key)
        await self.session.flush()
        return key

    async def get(self, key_id: int) -> models.ApiKey | None:
        return await self.session.get(Key, key_id)

    async def live_by_hash(self, key_hash: str) -> models.ApiKey | None:
        stmt = select(Key).where(Key.key_hash == key_hash, Key.revoked_at.is_(None))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def touch(self, key_id: int, *, now: datetime) -> None:
        await self.session.execute(update(Key).where(Key.id == key_id).values(last_used_at=now))

    async def revoke(self, key: models.ApiKey, *, now: datetime) -> None:
        key.revoked_at = now
        await self.session.flush()

    async def all(self) -> list[models.ApiKey]:
        return list(await self.session.scalars(select(Key).order_by(Key.created_at, Key.id)))
