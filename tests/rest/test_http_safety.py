"""HTTP-level safety: body limit, methods and content types, batching, CORS, headers,
production defaults, and error codes clients key on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.app import close_app, create_app
from service.settings import Settings
from tests.helpers import error_codes, graphql

QUERY = {"query": "{ settings { title } }"}


def make_client(database_url: str, **overrides: Any) -> tuple[httpx.AsyncClient, FastAPI]:
    app = create_app(
        Settings(database_url=database_url, secret_key="x" * 48, _env_file=None, **overrides)
    )
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    return client, app


@pytest.fixture
async def small_body(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    client, app = make_client(database_url, max_body_bytes=200)
    async with client:
        yield client
    await close_app(app)


async def test_bodies_over_the_limit_get_413_before_parsing(small_body: httpx.AsyncClient) -> None:
    padding = " " * (200 - len(b'{"query": "{ settings { title } }"}'))
    exact = ('{"query": "{ settings { title } }"}' + padding).encode()
    assert len(exact) == 200

    ok = await small_body.post(
        "/graphql", content=exact, headers={"content-type": "application/json"}
    )
    too_big = await small_body.post(
        "/graphql", content=exact + b" ", headers={"content-type": "application/json"}
    )

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(5):
            yield b" " * 100

    streamed = await small_body.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    # Both headers: some servers (h11) read the chunks, however short the declared length.
    both = await small_body.post(
        "/graphql",
        content=chunks(),
        headers={
            "content-type": "application/json",
            "content-length": "5",
            "transfer-encoding": "chunked",
        },
    )

    assert ok.status_code == 200
    assert too_big.status_code == 413
    assert "BROADSHEET_MAX_BODY_BYTES" in too_big.json()["detail"]
    assert streamed.status_code == 413
    assert both.status_code == 413


async def test_a_streamed_body_over_the_limit_is_413_wherever_it_is_read(
    small_body: httpx.AsyncClient,
) -> None:
    """Read by a route behind FastAPI's own layers (here a REST form), a body stopped at the
    limit is a 413, whatever the route made of it: FastAPI's form parsing answered 400 ("an
    error parsing the body"), and its error page would answer 500."""

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"username=x&" * 10

    form = await small_body.post(
        "/api/v1/auth/token",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )

    assert form.status_code == 413, form.text


async def test_mutations_over_get_are_405_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={"query": 'mutation { deletePost(input: {id: "UG9zdDox"}) { deletedId } }'},
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    query = await client.get("/graphql", params={"query": "{ settings { title } }"})
    assert query.status_code == 200


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", "query=%7B+settings+%7B+title+%7D+%7D"),
        ("text/plain", '{"query": "{ settings { title } }"}'),
    ],
)
async def test_non_json_posts_are_415(
    client: httpx.AsyncClient, content_type: str, body: str
) -> None:
    response = await client.post("/graphql", content=body, headers={"content-type": content_type})
    assert response.status_code == 415


async def test_a_multipart_post_without_credentials_is_refused_unread(
    client: httpx.AsyncClient,
) -> None:
    """Multipart is for uploads (staff, with headers a cross-site form cannot send)."""
    body = (
        "--x\r\nContent-Disposition: form-data; name=query\r\n\r\n{ settings { title } }\r\n--x--"
    )
    response = await client.post(
        "/graphql", content=body, headers={"content-type": "multipart/form-data; boundary=x"}
    )
    assert response.status_code == 400
    assert "Authorization" in response.json()["errors"][0]["message"]


async def test_graphql_response_json_is_accepted_as_request_type(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        content=b'{"query": "{ settings { title } }"}',
        headers={"content-type": "application/graphql-response+json"},
    )
    assert response.status_code == 200


async def test_batches_are_refused_unless_enabled_then_capped(
    client: httpx.AsyncClient, database_url: str
) -> None:
    assert (await client.post("/graphql", json=[QUERY, QUERY])).status_code == 400
    batching, app = make_client(database_url, graphql_batch_max=2)
    async with batching:
        two = await batching.post("/graphql", json=[QUERY, QUERY])
        three = await batching.post("/graphql", json=[QUERY, QUERY, QUERY])
    await close_app(app)
    assert two.status_code == 200
    assert len(two.json()) == 2
    assert three.status_code == 400


async def test_cors_is_closed_by_default_and_opens_to_configured_origins(
    client: httpx.AsyncClient, database_url: str
) -> None:
    preflight = {"origin": "https://site.example", "access-control-request-method": "POST"}
    closed = await client.options("/graphql", headers=preflight)
    assert "access-control-allow-origin" not in closed.headers

    open_client, app = make_client(database_url, cors_origins=["https://site.example"])
    async with open_client:
        allowed = await open_client.options("/graphql", headers=preflight)
        other = await open_client.options(
            "/graphql", headers={**preflight, "origin": "https://evil.example"}
        )
    await close_app(app)
    assert allowed.headers["access-control-allow-origin"] == "https://site.example"
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize(
    "path",
    ["/healthcheck", "/graphql?query=%7Bsettings%7Btitle%7D%7D", "/api/v1/auth/me", "/nowhere"],
)
async def test_security_headers_on_every_response(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert response.headers["x-frame-options"] == "DENY"


async def test_error_codes_for_parse_validation_and_input(client: httpx.AsyncClient) -> None:
    assert error_codes(await graphql(client, "{ settings {")) == ["GRAPHQL_PARSE_FAILED"]
    assert error_codes(await graphql(client, "{ settings { titel } }")) == [
        "GRAPHQL_VALIDATION_FAILED"
    ]
    bad_variable = await graphql(
        client, "query($n: Int) { posts(first: $n) { totalCount } }", {"n": "x"}
    )
    assert error_codes(bad_variable) == ["BAD_USER_INPUT"]


@pytest.fixture
async def production(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    client, app = make_client(database_url, env="production")
    async with client:
        yield client
    await close_app(app)


async def test_production_hides_the_schema(production: httpx.AsyncClient) -> None:
    introspection = await graphql(production, "{ __schema { types { name } } }")
    assert set(error_codes(introspection)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert introspection.get("data") is None
    typo = await graphql(production, "{ settings { titel } }")
    assert "Did you mean" not in typo["errors"][0]["message"]
    graphiql = await production.get("/graphql", headers={"accept": "text/html"})
    assert "graphiql" not in graphiql.text.lower()


def test_production_refuses_graphiql_or_introspection_unless_allowed(database_url: str) -> None:
    for flag in ("graphiql", "introspection"):
        with pytest.raises(ValueError, match="ALLOW_PUBLIC_SCHEMA"):
            Settings(
                database_url=database_url,
                secret_key="x" * 48,
                env="production",
                _env_file=None,
                **{flag: True},  # type: ignore[arg-type]  # which flag is known only at run time
            )
    allowed = Settings(
        database_url=database_url,
        secret_key="x" * 48,
        env="production",
        graphiql=True,
        allow_public_schema_in_production=True,
        _env_file=None,
    )
    assert allowed.graphiql_enabled
