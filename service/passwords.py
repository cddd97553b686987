"""Passwords: Argon2id hashing off the event loop, and the rules a new password must meet."""

from __future__ import annotations

import asyncio
from functools import cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from service.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 256  # Argon2 accepts more, but a megabyte "password" is a denial of service
COMMON_PASSWORDS_CHECKED = 1000

# OWASP's minimum for Argon2id is 19 MiB, t=2, p=1; these exceed it.
_hasher = PasswordHash((Argon2Hasher(memory_cost=19 * 1024, time_cost=2, parallelism=1),))
# Verifying against this when the account does not exist costs the same as a real check,
# so response times do not tell which emails have accounts.
_DUMMY_HASH = _hasher.hash("broadsheet-timing-equaliser")


@cache
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"][:COMMON_PASSWORDS_CHECKED])


def check_new_password(password: str, *, field: str = "password") -> None:
    """Raise InvalidInput unless `password` is long enough and not a common one."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput.one(
            f"Use at least {MIN_LENGTH} characters.", code="TOO_SHORT", field=[field]
        )
    if len(password) > MAX_LENGTH:
        raise InvalidInput.one(
            f"Use at most {MAX_LENGTH} characters.", code="TOO_LONG", field=[field]
        )
    if password.lower() in _common_passwords():
        raise InvalidInput.one(
            "This password is too common; choose another.", code="INVALID", field=[field]
        )


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    """Check `password`; with no hash (no such account) spend the same time and say no."""
    if password_hash is None or len(password) > MAX_LENGTH:
        await asyncio.to_thread(_hasher.verify, password[:MAX_LENGTH], _DUMMY_HASH)
        return False
    return await asyncio.to_thread(_hasher.verify, password, password_hash)
