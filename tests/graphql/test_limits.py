"""Limits against abusive queries, each at its boundary: the largest allowed passes, one
more is refused with QUERY_TOO_COMPLEX before any resolver runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.app import close_app, create_app
from service.settings import Settings
from tests.conftest import StatementCounter
from tests.helpers import error_codes, graphql


def refused(body: dict[str, Any], limit: str) -> None:
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"], body
    assert body["errors"][0]["extensions"]["limit"] == limit
    assert body.get("data") is None


async def test_depth_ten_passes_and_eleven_is_refused(
    client: httpx.AsyncClient, sql: StatementCounter
) -> None:
    ten = "{ posts(first: 1) { nodes { tags { posts(first: 1) { nodes { tags { posts(first: 1) { nodes { tags { name } } } } } } } } } }"
    eleven = "{ posts(first: 1) { nodes { tags { posts(first: 1) { nodes { tags { posts(first: 1) { nodes { tags { posts(first: 1) { totalCount } } } } } } } } } } }"

    assert "errors" not in await graphql(client, ten)
    sql.reset()
    body = await graphql(client, eleven)

    refused(body, "depth")
    assert "BROADSHEET_MAX_QUERY_DEPTH" in body["errors"][0]["message"]
    assert sql.count == 0  # refused before any resolver ran


async def test_thirty_aliases_pass_and_thirty_one_are_refused(client: httpx.AsyncClient) -> None:
    def aliases(n: int) -> str:
        return "{ settings { " + " ".join(f"a{i}: title" for i in range(n)) + " } }"

    assert "errors" not in await graphql(client, aliases(30))
    refused(await graphql(client, aliases(31)), "aliases")


async def test_twenty_root_fields_pass_and_twenty_one_are_refused(
    client: httpx.AsyncClient,
) -> None:
    def roots(n: int) -> str:
        return "{ " + " ".join("settings { title }" for _ in range(n)) + " }"

    assert "errors" not in await graphql(client, roots(20))
    refused(await graphql(client, roots(21)), "root fields")


async def test_fragments_count_towards_depth_and_cycles_do_not_hang(
    client: httpx.AsyncClient,
) -> None:
    deep = "fragment F on Tag { posts(first: 1) { nodes { tags { posts(first: 1) { nodes { tags { posts(first: 1) { nodes { tags { name } } } } } } } } } } { posts(first: 1) { nodes { tags { ...F } } } }"
    refused(await graphql(client, deep), "depth")
    cyclic = "fragment A on Tag { posts { nodes { tags { ...A } } } } { tags { nodes { ...A } } }"
    body = await graphql(client, cyclic)
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_cost_multiplies_page_sizes_and_is_reported(client: httpx.AsyncClient) -> None:
    two_levels = "{ posts(first: 100) { nodes { tags { posts(first: 100) { nodes { id } } } } } }"
    three_levels = "{ posts(first: 100) { nodes { tags { posts(first: 100) { nodes { tags { posts(first: 100) { nodes { id } } } } } } } } }"

    assert "errors" not in await graphql(client, two_levels)
    body = await graphql(client, three_levels)
    refused(body, "cost")
    assert body["errors"][0]["extensions"]["cost"] > 50_000


async def test_cost_reads_page_sizes_from_variables(client: httpx.AsyncClient) -> None:
    query = "query($n: Int) { posts(first: $n) { nodes { tags { posts(first: $n) { nodes { tags { posts(first: $n) { nodes { id } } } } } } } } }"
    assert "errors" not in await graphql(client, query, {"n": 10})
    refused(await graphql(client, query, {"n": 100}), "cost")


@pytest.fixture
async def tight(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """An app with small limits, to test the cost and token boundaries exactly."""
    app: FastAPI = create_app(
        Settings(
            database_url=database_url,
            secret_key="x" * 48,
            max_query_cost=30,
            max_query_tokens=50,
            _env_file=None,
        )
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        yield client
    await close_app(app)


async def test_cost_boundary(tight: httpx.AsyncClient) -> None:
    query = "query($n: Int) { posts(first: $n) { nodes { title } } }"  # cost: n (connection) + n (nodes)
    assert "errors" not in await graphql(tight, query, {"n": 15})
    body = await graphql(tight, query, {"n": 16})
    refused(body, "cost")
    assert body["errors"][0]["extensions"]["cost"] == 32


async def test_token_boundary(tight: httpx.AsyncClient) -> None:
    def titles(n: int) -> str:
        return "{ settings { " + " ".join("title" for _ in range(n)) + " } }"  # n + 5 tokens

    assert "errors" not in await graphql(tight, titles(45))
    body = await graphql(tight, titles(46))
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
    assert body["errors"][0]["extensions"]["limit"] == "tokens"


async def test_introspection_is_not_limited_by_depth(client: httpx.AsyncClient) -> None:
    query = "{ __schema { types { name fields { name type { name ofType { name ofType { name ofType { name ofType { name ofType { name ofType { name } } } } } } } } } } }"
    body = await graphql(client, query)
    assert "errors" not in body
