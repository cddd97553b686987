"""Settings from BROADSHEET_* environment variables (and a .env file)."""

from __future__ import annotations

import logging
import secrets
from enum import StrEnum
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)

MIN_SECRET_KEY_BYTES = 32
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./broadsheet.db"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Everything configurable about one Broadsheet process."""

    model_config = SettingsConfigDict(
        env_prefix="BROADSHEET_", env_file=".env", extra="ignore", frozen=True
    )

    env: Environment = Environment.DEVELOPMENT
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str | None = Field(default=None, repr=False)
    debug: bool = False
    graphiql: bool = True
    sql_echo: bool = False
    healthcheck_timeout_seconds: float = 2.0

    # Tokens
    jwt_algorithm: str = "HS256"
    jwt_issuer: str = "broadsheet"
    jwt_audience: str = "broadsheet-api"
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_days: int = 30
    preview_token_ttl_hours: int = 24

    # Sign-in throttling: free attempts, then delays doubling from one second
    login_free_attempts_per_account: int = 5
    login_max_failures_per_account: int = 100
    login_free_attempts_per_address: int = 50
    login_max_delay_seconds: int = 15 * 60

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @model_validator(mode="after")
    def _production_needs_a_strong_key(self) -> Settings:
        if self.secret_key is not None and len(self.secret_key.encode()) < MIN_SECRET_KEY_BYTES:
            raise ValueError(f"BROADSHEET_SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes")
        if self.is_production:
            if not self.secret_key or len(self.secret_key.encode()) < MIN_SECRET_KEY_BYTES:
                raise ValueError(
                    "BROADSHEET_SECRET_KEY must be set to at least "
                    f"{MIN_SECRET_KEY_BYTES} bytes when BROADSHEET_ENV=production"
                )
            if self.debug:
                raise ValueError("BROADSHEET_DEBUG must be off when BROADSHEET_ENV=production")
        return self

    def sqlite_path(self) -> Path | None:
        """The database file when running on SQLite, else None."""
        prefix = "sqlite+aiosqlite:///"
        if not self.database_url.startswith(prefix):
            return None
        path = self.database_url.removeprefix(prefix)
        return None if path in ("", ":memory:") else Path(path)

    def resolved_secret_key(self) -> str:
        """The configured key, or (development only) one generated and kept beside the database."""
        if self.secret_key:
            return self.secret_key
        database = self.sqlite_path()
        key_file = (database.parent if database else Path.cwd()) / "broadsheet.secret"
        if key_file.exists():
            return key_file.read_text().strip()
        key = secrets.token_urlsafe(48)
        key_file.write_text(key)
        key_file.chmod(0o600)
        log.warning(
            "No BROADSHEET_SECRET_KEY set: generated one in %s (development only)", key_file
        )
        return key
