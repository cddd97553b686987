"""Preview tokens: a signed, short-lived pass to read one draft, so a site's draft mode
needs no staff login."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from db.base import utcnow
from service.settings import Settings

AUDIENCE = "broadsheet-preview"


@dataclass(frozen=True)
class PreviewSigner:
    key: str
    algorithm: str
    issuer: str
    ttl: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> PreviewSigner:
        return cls(
            key=settings.resolved_secret_key(),
            algorithm=settings.jwt_algorithm,
            issuer=settings.jwt_issuer,
            ttl=timedelta(hours=settings.preview_token_ttl_hours),
        )

    def issue(self, *, type_name: str, id: int) -> tuple[str, datetime]:
        now = utcnow()
        expires_at = now + self.ttl
        claims = {
            "sub": f"{type_name}:{id}",
            "iss": self.issuer,
            "aud": AUDIENCE,
            "iat": now,
            "exp": expires_at,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.key, algorithm=self.algorithm), expires_at

    def read(self, token: str, *, type_name: str) -> int | None:
        """The id a valid token grants for `type_name`; None for anything else."""
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=[self.algorithm],
                audience=AUDIENCE,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
            kind, _, number = str(claims["sub"]).partition(":")
            return int(number) if kind == type_name else None
        except (jwt.PyJWTError, ValueError):
            return None
