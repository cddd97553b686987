"""The app factory: FastAPI with the GraphQL router and the REST routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from db.engine import Database
from graphql_schema.schema import graphql_router
from rest import auth, errors, health
from service.auth import Authenticator
from service.preview import PreviewSigner
from service.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ASGI app for `settings` (read from the environment when omitted)."""
    settings = settings or Settings()
    db = Database.connect(settings.database_url, echo=settings.sql_echo)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await db.dispose()

    app = FastAPI(
        title="Broadsheet",
        summary="A headless CMS API: GraphQL for content, REST for login and health.",
        version=health.VERSION,
        lifespan=lifespan,
        debug=settings.debug,
    )
    app.state.settings = settings
    app.state.db = db
    authenticator = Authenticator.create(db, settings)
    app.state.authenticator = authenticator
    app.include_router(
        graphql_router(
            db, authenticator, PreviewSigner.from_settings(settings), graphiql=settings.graphiql
        ),
        prefix="/graphql",
    )
    app.include_router(health.router)
    app.include_router(auth.router)
    errors.install(app)
    return app
