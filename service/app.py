"""The app factory: FastAPI with the GraphQL router and the REST routers."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from db.engine import Database
from graphql_schema.compiled.content_keys import ContentKeys
from graphql_schema.compiled.front import CacheFront
from graphql_schema.compiled.generation import generations
from graphql_schema.compiled.middleware import CompiledQueryMiddleware
from graphql_schema.compiled.plans import CompiledQueries
from graphql_schema.compiled.reads import open_reads
from graphql_schema.compiled.response_cache import ResponseCache
from graphql_schema.compiled.sqlite_reads import shared_file
from graphql_schema.http_caching import CachePolicy
from graphql_schema.limits import QueryLimitSettings
from graphql_schema.router import graphql_router
from graphql_schema.schema import SchemaOptions, build_schema
from rest import auth, docs, errors, front_door, health
from rest.media import MediaServer
from rest.metrics import metrics_router
from service.auth import Authenticator
from service.http_safety import STATIC_DIR, BodySizeLimit, SecurityHeaders
from service.media.files import MediaFiles
from service.media.storage import LocalStorage, Storage
from service.observability import install_observability
from service.persisted_queries import PersistedQueries, PersistedQuerySettings
from service.preview import PreviewSigner
from service.runner import Runner
from service.settings import Settings
from service.webhooks import TargetRules

Layer = TypeVar("Layer", bound=ASGIApp)


class App(FastAPI):
    """FastAPI, with room for layers in front of all of its own (its error handling included):
    request observability, which must see every request and every response whatever happens
    inside, and the cache front, which answers repeated reads before anything else runs."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._entry: ASGIApp = super().__call__

    def add_outer_middleware(self, middleware_class: Callable[..., Layer], **options: Any) -> Layer:
        """Put `middleware_class(app, **options)` in front of everything added before it (as
        with add_middleware, the last added is the first to see a request); returns it."""
        layer = middleware_class(self._entry, **options)
        self._entry = layer
        return layer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._entry(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ASGI app for `settings` (read from the environment when omitted)."""
    settings = settings or Settings()
    db = Database.connect(
        settings.database_url,
        read_url=settings.read_database_url,
        echo=settings.sql_echo,
        timeout=settings.database_timeout_seconds,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Everything made so far (modules, the schema, settings) lives as long as the process:
        # moved out of the collector's sight, full collections stop re-scanning it under load.
        gc.collect()
        gc.freeze()
        if settings.event_runner:
            runner = Runner(db, settings)
            runner.start()
            app.state.runner = runner
        yield
        await close_app(app)

    app = App(
        title="Broadsheet",
        summary="A headless CMS API: GraphQL for content, REST for login and health.",
        version=health.VERSION,
        lifespan=lifespan,
        debug=settings.debug,
        docs_url=None,  # served by rest.docs, with local assets
        redoc_url=None,
        # Not wired to OpenTelemetry: off, FastAPI's check for a configured provider costs
        # about 15 µs on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.db = db
    authenticator = Authenticator.create(db, settings)
    app.state.authenticator = authenticator
    limits = QueryLimitSettings(
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_query_aliases,
        max_tokens=settings.max_query_tokens,
        max_root_fields=settings.max_query_root_fields,
        max_cost=settings.max_query_cost,
        max_input_depth=settings.max_query_input_depth,
        max_input_values=settings.max_query_input_values,
    )
    schema = build_schema(
        SchemaOptions(
            limits=limits,
            introspection=settings.introspection_enabled,
            field_suggestions=not settings.is_production,
            batch_max_operations=settings.graphql_batch_max,
        )
    )
    preview = PreviewSigner.from_settings(settings)
    caching = CachePolicy(
        s_maxage=settings.http_cache_s_maxage,
        stale_while_revalidate=settings.http_cache_stale_while_revalidate,
        surrogate_key_header=settings.http_cache_surrogate_key_header,
        cache_tag_header=settings.http_cache_tag_header,
    )
    persisted_queries = PersistedQueries(
        db,
        PersistedQuerySettings(
            max_bytes=settings.persisted_query_max_bytes,
            max_entries=settings.persisted_query_max_entries,
            only_registered=settings.persisted_queries_only,
        ),
    )
    if settings.media_s3_bucket:
        from service.media.s3 import S3Storage  # boto3 takes most of a second to import

        storage: Storage = S3Storage.from_settings(settings)
    else:
        storage = LocalStorage(settings.resolved_media_dir())
    media = MediaFiles(storage, db)
    app.state.media_files = media
    app.include_router(
        graphql_router(
            schema,
            db,
            authenticator,
            preview,
            graphiql=settings.graphiql_enabled,
            persisted_queries=persisted_queries,
            webhook_rules=TargetRules(
                allow_http=not settings.is_production,
                allow_private=settings.webhook_allow_private,
                secret_overlap=timedelta(seconds=settings.webhook_secret_overlap_seconds),
            ),
            caching=caching,
            media=media,
            media_url=settings.media_url,
        ),
        prefix="/graphql",
    )
    app.include_router(front_door.router)
    # The SDL for GET /schema.graphql; not exposed where introspection is off.
    app.state.sdl = schema.as_str() if settings.introspection_enabled else None
    app.include_router(health.router)
    app.include_router(docs.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(auth.router)
    errors.install(app)
    # Verify mode (the tests) compares every answer of the compiled path with the general
    # path's: nothing may be answered from memory without the comparison.
    verify = settings.compiled_queries == "verify"
    content_keys = ContentKeys(authenticator, remember=not verify)
    cache: ResponseCache | None = None
    if settings.compiled_queries != "off" and _compiles(db):
        pool = open_reads(db.public.engine.url, timeout=settings.database_timeout_seconds)
        # The generation is the primary's (a replica may be behind it).
        primary = pool if db.replica is None else open_reads(db.engine.url, timeout=pool.timeout)
        queries = CompiledQueries(schema, db, pool)
        if settings.response_cache:
            cache = ResponseCache(generations(primary, db.engine.dialect))
        app.add_middleware(
            CompiledQueryMiddleware,
            queries=queries,
            persisted=persisted_queries,
            content_keys=content_keys,
            cache=cache,
            path="/graphql",
            caching=caching,
            verify=verify,
        )
        app.state.compiled_queries = queries
        app.state.read_pools = [pool] if primary is pool else [pool, primary]
        app.state.response_cache = cache
    app.add_middleware(MediaServer, files=media)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Api-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Server-Timing"],
        )
    # Outermost of FastAPI's last: the body limit runs before anything there reads the body.
    app.add_middleware(SecurityHeaders)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        upload_max_bytes=settings.media_max_bytes,
    )
    if cache is not None and not verify:
        # In front of FastAPI: it reads only bodies declared within the limit, and repeats
        # what came out of all of the above.
        app.state.cache_front = app.add_outer_middleware(
            CacheFront,
            path="/graphql",
            generations=cache.generations,
            content_keys=content_keys,
            max_body_bytes=settings.max_body_bytes,
        )
    # In front of everything, FastAPI's own layers and the cache front included: every response
    # (a 413, a 500, a repeated answer) gets a request id, an access line and metrics.
    observed = install_observability(
        app,
        json_logs=settings.is_production if settings.log_json is None else settings.log_json,
        log_level=settings.log_level,
        buffered_access_log=settings.is_production,
        metrics=settings.metrics_enabled,
        database=db,
    )
    app.state.access_log = observed.access_log
    if observed.metrics is not None:
        app.include_router(metrics_router(observed.metrics.registry, token=settings.metrics_token))
    return app


def _compiles(db: Database) -> bool:
    """Whether the compiled path can serve this database: PostgreSQL, or an SQLite file (an
    in-memory database is one per connection)."""
    url = db.engine.url
    return url.get_backend_name() == "postgresql" or shared_file(url)


async def close_app(app: FastAPI) -> None:
    """Stop the event runner and release the app's database connections (its lifespan does
    this on shutdown), then write the access lines still waiting."""
    try:
        runner: Runner | None = getattr(app.state, "runner", None)
        if runner is not None:
            await runner.stop()
        cache: ResponseCache | None = getattr(app.state, "response_cache", None)
        if cache is not None:
            await cache.close()
        for pool in getattr(app.state, "read_pools", ()):
            await pool.close()
        await app.state.db.dispose()
    finally:
        app.state.access_log.flush()
