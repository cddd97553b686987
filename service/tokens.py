"""Access tokens (short-lived JWTs) and opaque secrets (refresh tokens, API keys)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from db.base import utcnow
from service.errors import Unauthenticated
from service.settings import Settings


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    token_version: int


@dataclass(frozen=True)
class TokenSigner:
    """Issues and verifies access tokens with one key, algorithm, issuer and audience."""

    key: str
    algorithm: str
    issuer: str
    audience: str
    ttl: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenSigner:
        return cls(
            key=settings.resolved_secret_key(),
            algorithm=settings.jwt_algorithm,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl=timedelta(seconds=settings.access_token_ttl_seconds),
        )

    def issue(self, *, user_id: int, token_version: int, now: datetime | None = None) -> str:
        now = now or utcnow()
        claims = {
            "sub": str(user_id),
            "ver": token_version,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.key, algorithm=self.algorithm)

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid token; Unauthenticated for anything else."""
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=[self.algorithm],  # pinned: never trust the header's choice
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "nbf", "sub", "iss", "aud", "jti"]},
            )
            return AccessClaims(user_id=int(claims["sub"]), token_version=int(claims["ver"]))
        except (jwt.PyJWTError, KeyError, TypeError, ValueError):
            raise Unauthenticated("invalid or expired token") from None


def new_secret(prefix: str = "") -> str:
    """A random secret with 256 bits of entropy."""
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """How secrets are stored: a SHA-256 digest (they are random, so no salt or stretching)."""
    return hashlib.sha256(secret.encode()).hexdigest()
