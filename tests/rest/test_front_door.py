"""The front door at `/`, the SDL at `/schema.graphql`, and the GraphQL routes in OpenAPI:
what a newcomer finds before reading any documentation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from db.engine import Database
from service.seeding import DEMO, seed
from tests.helpers import graphql_data

JSON = {"accept": "application/json"}
BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
async def demo(db: Database) -> None:
    await seed(db, DEMO)


@pytest.mark.usefixtures("demo")
async def test_an_api_client_gets_the_facts_as_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/", headers=JSON)

    assert response.status_code == 200
    facts = response.json()
    assert facts["title"] == "The Broadsheet Gazette"
    assert facts["version"] == (await client.get("/healthcheck")).json()["version"]
    assert facts["links"] == {
        "graphql": "/graphql",
        "graphiql": "/graphql",
        "schema": "/schema.graphql",
        "docs": "/docs",
        "redoc": "/redoc",
        "openapi": "/openapi.json",
        "health": "/healthcheck",
        "liveness": "/healthcheck/live",
        "token": "/api/v1/auth/token",
    }
    assert [example["name"] for example in facts["examples"]] == [
        "Homepage",
        "Post",
        "TagArchive",
        "Search",
    ]
    # Every example runs against this very site and finds something.
    for example in facts["examples"]:
        data = await graphql_data(client, example["query"], example["variables"])
        assert _found_something(data), (example["name"], data)


def _found_something(data: dict[str, Any]) -> bool:
    (value,) = [v for k, v in data.items() if k != "settings"]
    if "posts" in value and isinstance(value["posts"], dict):
        value = value["posts"]
    return bool(value) and value.get("nodes", [None]) != [] and value.get("totalCount") != 0


@pytest.mark.usefixtures("demo")
async def test_a_browser_gets_a_page_with_its_own_assets_only(client: httpx.AsyncClient) -> None:
    response = await client.get("/", headers=BROWSER)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<h1>The Broadsheet Gazette</h1>" in page
    for link in ('href="/graphql"', 'href="/docs"', 'href="/redoc"', 'href="/healthcheck"'):
        assert link in page
    assert "query Homepage" in page
    assert "curl -s http://testserver/graphql" in page
    assert "http://" not in page.replace("http://testserver", "")  # no outside assets
    assert response.headers["content-security-policy"].startswith("default-src 'self'")


@pytest.mark.parametrize(
    "settings",
    [{"env": "production", "graphiql": None, "introspection": None}],
    indirect=True,
)
async def test_production_lists_only_what_production_exposes(client: httpx.AsyncClient) -> None:
    facts = (await client.get("/", headers=JSON)).json()
    assert facts["links"]["graphiql"] is None
    assert facts["links"]["schema"] is None
    page = (await client.get("/", headers=BROWSER)).text
    assert "GraphiQL" not in page
    assert (await client.get("/schema.graphql")).status_code == 404


async def test_the_sdl_is_served_where_introspection_is_on(client: httpx.AsyncClient) -> None:
    from graphql_schema.schema import schema

    response = await client.get("/schema.graphql")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == schema.as_str()


async def test_openapi_names_and_describes_the_graphql_routes(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]

    get, post = paths["/graphql"]["get"], paths["/graphql"]["post"]
    assert (get["operationId"], post["operationId"]) == ("graphql_get", "graphql_post")
    assert get["tags"] == post["tags"] == ["graphql"]
    assert get["summary"].startswith("Run a GraphQL query by GET")
    assert post["summary"] == "Run a GraphQL query or mutation"
    assert "Handle Http" not in str(paths)
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["query"]
    assert paths["/"]["get"]["tags"] == ["front door"]
