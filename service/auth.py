"""Signing in: owner set-up, password login, token refresh with rotation, logout, and turning
a request's credentials into a Viewer. REST and GraphQL both call these."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.base import utcnow
from db.engine import Database
from db.models.site_settings import SETTINGS_ROW_ID
from db.repositories.credentials import ApiKeyRepository, RefreshTokenRepository
from db.repositories.throttles import ThrottleRepository
from db.repositories.users import StaffWriter, UserRepository
from service import staff
from service.errors import Unauthenticated
from service.passwords import verify_password
from service.policy import ANONYMOUS, Viewer
from service.settings import Settings
from service.throttling import ThrottlePolicy, account_key, address_key
from service.tokens import TokenSigner, digest, new_secret

LAST_USED_RESOLUTION = timedelta(minutes=1)


class AlreadySetUp(Exception):
    """The site has staff already: set-up happens once."""


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True)
class Authenticator:
    db: Database
    settings: Settings
    signer: TokenSigner
    throttle: ThrottlePolicy

    @classmethod
    def create(cls, db: Database, settings: Settings) -> Authenticator:
        return cls(
            db=db,
            settings=settings,
            signer=TokenSigner.from_settings(settings),
            throttle=ThrottlePolicy.from_settings(settings),
        )

    async def setup(
        self, *, email: str, password: str, name: str, site_title: str | None
    ) -> models.User:
        """Create the owner while no staff exist."""
        try:
            return await self._setup(
                email=email, password=password, name=name, site_title=site_title
            )
        except IntegrityError:  # another set-up won the race (one owner: a unique index)
            raise AlreadySetUp from None

    async def _setup(
        self, *, email: str, password: str, name: str, site_title: str | None
    ) -> models.User:
        async with self.db.write_sessions.begin() as session:
            writer = StaffWriter(session)
            if await writer.any_exist():
                raise AlreadySetUp
            owner = await staff.create_user(
                writer, email=email, name=name, role=models.Role.OWNER, password=password
            )
            if site_title is not None:
                site = await session.get(models.SiteSettings, SETTINGS_ROW_ID)
                if site is None:
                    site = models.SiteSettings(id=SETTINGS_ROW_ID)
                    session.add(site)
                site.title = site_title.strip() or site.title
        return owner

    async def login(self, *, email: str, password: str, address: str) -> TokenPair:
        """Exchange a password for tokens. Throttled raises; a wrong email or password is
        Unauthenticated, alike in message and time."""
        account, client = account_key(email), address_key(address)
        async with self.db.read_sessions() as session:
            await self.throttle.check_address(ThrottleRepository(session), client)
        async with self.db.write_sessions.begin() as session:
            await self.throttle.count_attempt(ThrottleRepository(session), account)
        async with self.db.read_sessions() as session:
            user = await UserRepository(session).by_email(email.strip())
        valid = await verify_password(password, user.password_hash if user else None)
        if user is None or not valid or user.status is not models.UserStatus.ACTIVE:
            async with self.db.write_sessions.begin() as session:
                await self.throttle.record_address_failure(ThrottleRepository(session), client)
            raise Unauthenticated("Incorrect email or password.")
        async with self.db.write_sessions.begin() as session:
            await ThrottleRepository(session).clear(account)
            stored = await session.get(models.User, user.id)
            assert stored is not None
            stored.last_seen_at = utcnow()
            return await self._issue(session, stored, family=uuid.uuid4().hex)

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate: revoke `refresh_token` and issue the next pair. A token presented again
        after rotation means it was stolen: the whole family is revoked."""
        now = utcnow()
        async with self.db.write_sessions.begin() as session:
            tokens = RefreshTokenRepository(session)
            stored = await tokens.by_hash(digest(refresh_token))
            if stored is None or stored.expires_at <= now:
                raise Unauthenticated("Invalid refresh token.")
            # Of concurrent refreshes with one token, only the first revokes it.
            if stored.revoked_at is None and await tokens.revoke(stored.id, now=now):
                user = await session.get(models.User, stored.user_id)
                if user is None or user.status is not models.UserStatus.ACTIVE:
                    raise Unauthenticated("Invalid refresh token.")
                return await self._issue(session, user, family=stored.family)
            await tokens.revoke_family(stored.family, now=now)
        # Raised after the block, so the family's revocation is committed.
        raise Unauthenticated("Invalid refresh token.")

    async def logout(self, refresh_token: str) -> None:
        async with self.db.write_sessions.begin() as session:
            tokens = RefreshTokenRepository(session)
            stored = await tokens.by_hash(digest(refresh_token))
            if stored is not None:
                await tokens.revoke(stored.id, now=utcnow())

    async def _issue(self, session: AsyncSession, user: models.User, *, family: str) -> TokenPair:
        secret = new_secret()
        await RefreshTokenRepository(session).add(
            user_id=user.id,
            family=family,
            token_hash=digest(secret),
            expires_at=utcnow() + timedelta(days=self.settings.refresh_token_ttl_days),
        )
        access = self.signer.issue(user_id=user.id, token_version=user.token_version)
        return TokenPair(
            access_token=access,
            refresh_token=secret,
            expires_in=int(self.signer.ttl.total_seconds()),
        )

    async def viewer(self, *, authorization: str | None, api_key: str | None) -> Viewer:
        """Who the request's credentials name; Unauthenticated when they are present but bad."""
        if api_key:
            return await self._api_key_viewer(api_key)
        if not authorization:
            return ANONYMOUS
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("Use 'Authorization: Bearer <token>'.")
        claims = self.signer.verify(token.strip())
        async with self.db.read_sessions() as session:
            user = await UserRepository(session).get(claims.user_id)
        if (
            user is None
            or user.status is not models.UserStatus.ACTIVE
            or user.token_version != claims.token_version
        ):
            raise Unauthenticated("invalid or expired token")
        return Viewer(user_id=user.id, role=user.role)

    async def _api_key_viewer(self, api_key: str) -> Viewer:
        async with self.db.read_sessions() as session:
            key = await ApiKeyRepository(session).live_by_hash(digest(api_key))
        if key is None:
            raise Unauthenticated("Unknown or revoked API key.")
        now = utcnow()
        # Frontends send their key with every request: record use at most once a minute.
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
            async with self.db.write_sessions.begin() as session:
                await ApiKeyRepository(session).touch(key.id, now=now)
        if key.scope is models.ApiKeyScope.ADMIN:
            return Viewer(role=models.Role.ADMINISTRATOR, api_key_id=key.id)
        return Viewer(api_key_id=key.id)
