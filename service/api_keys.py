"""API keys: made by administrators, shown once, stored as digests, revocable."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.base import utcnow
from db.repositories.credentials import ApiKeyRepository
from service.errors import Forbidden, InvalidInput, NotFound
from service.policy import Viewer, may_manage_api_keys
from service.tokens import digest, new_secret

PREFIX = "bsk_"
MAX_NAME = 191


def check_may_manage(actor: Viewer) -> None:
    if not may_manage_api_keys(actor):
        raise Forbidden("Only administrators manage API keys.")


async def create(
    session: AsyncSession, actor: Viewer, *, name: str, scope: models.ApiKeyScope
) -> tuple[models.ApiKey, str]:
    """A new key and its secret (which is not stored and cannot be shown again)."""
    name = name.strip()
    if not name:
        raise InvalidInput.one("A name is required.", code="REQUIRED", field=["name"])
    if len(name) > MAX_NAME:
        raise InvalidInput.one(f"At most {MAX_NAME} characters.", code="TOO_LONG", field=["name"])
    secret = new_secret(PREFIX)
    key = await ApiKeyRepository(session).add(
        name=name,
        scope=scope,
        key_hash=digest(secret),
        prefix=secret[: len(PREFIX) + 6],
        created_by_id=actor.user_id,
    )
    return key, secret


async def revoke(session: AsyncSession, key_id: int) -> models.ApiKey:
    repository = ApiKeyRepository(session)
    key = await repository.get(key_id)
    if key is None:
        raise NotFound
    if key.revoked_at is None:
        await repository.revoke(key, now=utcnow())
    return key
