"""Settings from BROADSHEET_* environment variables (and a .env file)."""

from __future__ import annotations

import logging
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

log = logging.getLogger(__name__)

MIN_SECRET_KEY_BYTES = 32
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./broadsheet.db"


HEADER_NAME = r"^[A-Za-z0-9-]*$"


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
    # A PostgreSQL streaming replica for anonymous reads (writes and staff reads stay on the
    # primary). Readers may see content as old as the replica's lag.
    read_database_url: str | None = None
    secret_key: str | None = Field(default=None, repr=False)
    debug: bool = False
    sql_echo: bool = False
    # None means: on in development, off in production.
    graphiql: bool | None = None
    introspection: bool | None = None
    # Production refuses GraphiQL or introspection switched on unless this says it is meant.
    allow_public_schema_in_production: bool = False
    healthcheck_timeout_seconds: float = 2.0
    # Longest wait for a pooled connection, a new connection, or one statement.
    database_timeout_seconds: float = 5.0

    # Tokens
    jwt_algorithm: str = "HS256"
    jwt_issuer: str = "broadsheet"
    jwt_audience: str = "broadsheet-api"
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_days: int = 30
    preview_token_ttl_hours: int = 24

    # Observability
    log_json: bool | None = None  # None: JSON lines in production, readable text in development
    log_level: str = "INFO"
    metrics_enabled: bool = False
    metrics_token: str | None = Field(default=None, repr=False)

    # Limits against abusive requests (each refusal names its setting)
    max_query_depth: int = 10
    max_query_aliases: int = 30
    max_query_tokens: int = 15_000
    max_query_root_fields: int = 20
    max_query_cost: int = 50_000
    max_query_input_depth: int = 32
    max_query_input_values: int = 500
    max_body_bytes: int = 1_000_000
    # Media: where uploads are kept (default: a `media` directory beside the SQLite database,
    # or in the working directory), the largest upload, and the public address of /media
    # (a CDN in front, say; default: the address the request came to).
    media_dir: Path | None = None
    media_max_bytes: int = Field(default=20_000_000, gt=0)
    media_url: str | None = None
    # Media in an S3-compatible bucket instead (set: used; media_dir is then ignored). The
    # endpoint for any store but AWS's (MinIO, R2, ...); keys, or else the standard AWS chain.
    media_s3_bucket: str | None = None
    media_s3_prefix: str = ""
    media_s3_endpoint_url: str | None = None
    media_s3_region: str | None = None
    media_s3_access_key_id: str | None = None
    media_s3_secret_access_key: str | None = Field(default=None, repr=False)
    graphql_batch_max: int = 0  # 0 refuses batched (array) requests
    cors_origins: list[str] = []

    # Compiled path (PostgreSQL): anonymous reads answered by one SQL statement per query.
    # "verify" also runs the general path and fails on any difference (the test suite's mode).
    compiled_queries: Literal["on", "off", "verify"] = "on"
    # Cache the compiled path's answers per worker, checked against the content version.
    response_cache: bool = True

    # HTTP caching of public GET answers: how long shared caches (CDNs) may serve one without
    # asking, and then while they ask. 0: they revalidate every time (ETag, 304).
    http_cache_s_maxage: int = Field(default=0, ge=0)
    http_cache_stale_while_revalidate: int = Field(default=0, ge=0)
    # The headers public answers name their cache tags in (space- and comma-separated);
    # empty: not sent.
    http_cache_surrogate_key_header: str = Field(default="Surrogate-Key", pattern=HEADER_NAME)
    http_cache_tag_header: str = Field(default="Cache-Tag", pattern=HEADER_NAME)

    # Persisted queries (Apollo's APQ): documents stored by hash in the database
    persisted_query_max_bytes: int = 100_000  # largest document a client may persist
    persisted_query_max_entries: int = 10_000  # past this, new documents run but are not stored
    persisted_queries_only: bool = False  # allow-list: only documents registered by the CLI run

    # Sign-in throttling: free attempts, then delays doubling from one second
    login_free_attempts_per_account: int = 5
    login_max_failures_per_account: int = 100
    login_free_attempts_per_address: int = 50
    login_max_delay_seconds: int = 15 * 60

    # Content events and webhooks
    # Run the background loop here: scheduled posts going live, deliveries, pruning. One
    # process among all workers and hosts runs it at a time (a lock decides which).
    event_runner: bool = True
    events_poll_seconds: float = 0.5  # how often the runner looks for new events when idle
    webhook_allow_private: bool = False  # loopback and private targets (tests, on-premise)
    # Delay before each attempt, in seconds: the first is immediate (Standard Webhooks').
    webhook_retry_schedule: Annotated[tuple[float, ...], NoDecode] = (
        0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400,
    )  # fmt: skip
    webhook_timeout_seconds: float = 10.0
    webhook_concurrency: int = 16  # requests in flight at once, over all webhooks
    webhook_disable_after_seconds: float = 5 * 24 * 3600  # failing this long disables it
    webhook_secret_overlap_seconds: float = 24 * 3600  # the old secret also signs this long
    events_delivered_retention_days: float = 7
    events_failed_retention_days: float = 30

    @field_validator("webhook_retry_schedule", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(float(part) for part in value.split(",") if part.strip())
        return value

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _at_least_one_attempt(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or any(delay < 0 for delay in value):
            raise ValueError("give at least one delay, none negative (e.g. 0,5,300)")
        return value

    @field_validator("read_database_url")
    @classmethod
    def _replica_is_postgresql(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith("postgresql"):
            raise ValueError("a read replica must be PostgreSQL (postgresql+asyncpg://...)")
        return value

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else not self.is_production

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else not self.is_production

    @model_validator(mode="after")
    def _production_needs_a_strong_key(self) -> Settings:
        if self.secret_key is not None and len(self.secret_key.encode()) < MIN_SECRET_KEY_BYTES:
            raise ValueError(f"BROADSHEET_SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes")
        if self.read_database_url and not self.database_url.startswith("postgresql"):
            raise ValueError("BROADSHEET_READ_DATABASE_URL needs a PostgreSQL primary")
        if bool(self.media_s3_access_key_id) != bool(self.media_s3_secret_access_key):
            raise ValueError(
                "set both BROADSHEET_MEDIA_S3_ACCESS_KEY_ID and "
                "BROADSHEET_MEDIA_S3_SECRET_ACCESS_KEY, or neither (the AWS credential chain)"
            )
        if self.is_production:
            if not self.secret_key or len(self.secret_key.encode()) < MIN_SECRET_KEY_BYTES:
                raise ValueError(
                    "BROADSHEET_SECRET_KEY must be set to at least "
                    f"{MIN_SECRET_KEY_BYTES} bytes when BROADSHEET_ENV=production"
                )
            if self.debug:
                raise ValueError("BROADSHEET_DEBUG must be off when BROADSHEET_ENV=production")
            exposed = [name for name in ("graphiql", "introspection") if getattr(self, name)]
            if exposed and not self.allow_public_schema_in_production:
                raise ValueError(
                    f"{' and '.join(exposed)} on in production: set "
                    "BROADSHEET_ALLOW_PUBLIC_SCHEMA_IN_PRODUCTION=true if that is intended"
                )
        return self

    def sqlite_path(self) -> Path | None:
        """The database file when running on SQLite, else None."""
        prefix = "sqlite+aiosqlite:///"
        if not self.database_url.startswith(prefix):
            return None
        path = self.database_url.removeprefix(prefix)
        return None if path in ("", ":memory:") else Path(path)

    def resolved_media_dir(self) -> Path:
        if self.media_dir is not None:
            return self.media_dir
        database = self.sqlite_path()
        return (database.parent if database else Path.cwd()) / "media"

    def secret_key_file(self) -> Path:
        """Where development keeps the key it generates: beside the database."""
        database = self.sqlite_path()
        return (database.parent if database else Path.cwd()) / "broadsheet.secret"

    def resolved_secret_key(self) -> str:
        """The configured key, or (development only) one generated and kept beside the database."""
        if self.secret_key:
            return self.secret_key
        key_file = self.secret_key_file()
        if key_file.exists():
            return key_file.read_text().strip()
        key = secrets.token_urlsafe(48)
        key_file.write_text(key)
        key_file.chmod(0o600)
        log.warning(
            "No BROADSHEET_SECRET_KEY set: generated one in %s (development only)", key_file
        )
        return key
