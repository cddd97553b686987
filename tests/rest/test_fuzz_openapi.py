"""Property-based fuzzing of the REST API from its own OpenAPI document, with Schemathesis.

Every operation under /healthcheck and /api/v1/auth is called with generated valid and invalid
requests, and each response goes through all of Schemathesis' checks: no server error, status
codes, content types and bodies as documented, invalid input rejected, valid input accepted,
authentication enforced.

Schemathesis sends ASGI requests from one long-lived event loop of its own (a portal thread), not
from the test's loop. So the app here never touches the database from the test's loop: content is
seeded through a separate engine that is disposed before the app exists, and the app's own engine
is disposed by its lifespan, on Schemathesis' loop, once the run is over. The pool of asyncpg
connections (bound to the loop that opened them) is thus only ever used on one loop.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.python import asgi

from db import models
from db.engine import Database
from service.app import create_app
from service.settings import Settings
from tests.factories import create_user
from tests.helpers import PASSWORD

# The GraphQL endpoint is in the OpenAPI document too, but only as an opaque handler:
# tests/graphql/test_fuzz.py fuzzes it from its own schema.
REST_PATHS = r"^/(healthcheck|api/v1/auth)(/|$)"


async def _seed_staff(database_url: str) -> models.User:
    """An editor with a password, through an engine of its own on this short-lived loop."""
    db = Database.connect(database_url)
    try:
        return await create_user(db, name="Fuzz Editor", role=models.Role.EDITOR, password=PASSWORD)
    finally:
        await db.dispose()


@pytest.fixture
def rest_app(settings: Settings) -> Iterator[FastAPI]:
    staff = asyncio.run(_seed_staff(settings.database_url))
    application = create_app(settings)
    application.state.fuzz_staff = staff
    yield application
    # Runs the app's lifespan shutdown (which disposes its engine) on Schemathesis' own loop.
    asgi.shutdown_lifespans()


@pytest.fixture
def staff_headers(rest_app: FastAPI) -> dict[str, str]:
    """A valid bearer token, so /me answers 200 and `ignored_auth` can prove that it is
    enforced (it replays the call without, and with a broken, token)."""
    staff: models.User = rest_app.state.fuzz_staff
    token = rest_app.state.authenticator.signer.issue(user_id=staff.id, token_version=0)
    return {"Authorization": f"Bearer {token}"}


def _openapi_document() -> dict[str, Any]:
    """What GET /openapi.json serves. It describes routes only, so an app that never opens its
    database can produce it at import time (Schemathesis' pytest plugin needs the schema then)."""
    unused = Path(tempfile.gettempdir()) / "broadsheet-openapi-placeholder.db"
    placeholder = Settings(
        database_url=f"sqlite+aiosqlite:///{unused}", secret_key="p" * 48, _env_file=None
    )
    # FastAPI's GET /openapi.json answers with exactly `app.openapi()`.
    return create_app(placeholder).openapi()


schema = schemathesis.openapi.from_dict(_openapi_document()).include(path_regex=REST_PATHS)


@schema.parametrize()
@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_rest_api_conforms_to_its_openapi_document(
    case: schemathesis.Case[Any], rest_app: FastAPI, staff_headers: dict[str, str]
) -> None:
    case.call_and_validate(app=rest_app, headers=staff_headers)
