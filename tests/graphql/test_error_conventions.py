"""Every error follows the conventions clients key on: `extensions.code` always (SPEC section
4, plus Apollo's GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, BAD_REQUEST and the
persisted-query codes); `locations` when it points into the document; `path` when a field
failed during execution."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from db import models
from graphql_schema.types.site_settings import Settings as SiteSettings

LOCATED = "located"  # locations, no path: about the document, before execution
FIELD = "field"  # locations and path: a field failed during execution
WHOLE = "whole"  # neither: about the whole request


def shape(error: dict[str, Any]) -> str:
    has_locations = bool(error.get("locations"))
    has_path = bool(error.get("path"))
    if has_path:
        assert has_locations, error  # a field error always points at its field
        return FIELD
    return LOCATED if has_locations else WHOLE


@pytest.mark.parametrize(
    ("body", "code", "expected_shape"),
    [
        ({"query": "{ settings {"}, "GRAPHQL_PARSE_FAILED", LOCATED),
        ({"query": "{ settings { titel } }"}, "GRAPHQL_VALIDATION_FAILED", LOCATED),
        ({"query": "{ posts(bogus: 1) { totalCount } }"}, "GRAPHQL_VALIDATION_FAILED", LOCATED),
        (
            {"query": "{ posts(orderBy: [{field: NOPE}]) { totalCount } }"},
            "GRAPHQL_VALIDATION_FAILED",
            LOCATED,
        ),
        (
            {
                "query": "query($n: Int) { posts(first: $n) { totalCount } }",
                "variables": {"n": "x"},
            },
            "BAD_USER_INPUT",
            LOCATED,
        ),
        (
            {"query": "query($n: Int!) { posts(first: $n) { totalCount } }"},
            "BAD_USER_INPUT",
            LOCATED,
        ),
        ({"query": "{ posts(first: 101) { totalCount } }"}, "BAD_USER_INPUT", FIELD),
        ({"query": '{ posts(after: "zzz") { totalCount } }'}, "BAD_USER_INPUT", FIELD),
        ({"query": '{ node(id: "bogus") { id } }'}, "BAD_USER_INPUT", FIELD),
        ({"query": "{ users { totalCount } }"}, "UNAUTHENTICATED", FIELD),
        (
            {"query": 'mutation { createTag(input: {name: "x"}) { tag { id } } }'},
            "UNAUTHENTICATED",
            FIELD,
        ),
        # A limit is about the whole operation, which no one location stands for.
        (
            {"query": "{ settings { " + " ".join(f"a{i}: title" for i in range(31)) + " } }"},
            "QUERY_TOO_COMPLEX",
            WHOLE,
        ),
        ({"query": "{ " + "settings { title } " * 8000 + "}"}, "QUERY_TOO_COMPLEX", LOCATED),
    ],
)
async def test_graphql_errors_carry_code_locations_and_path(
    client: httpx.AsyncClient, body: dict[str, Any], code: str, expected_shape: str
) -> None:
    response = await client.post("/graphql", json=body)
    errors = response.json()["errors"]
    assert [error["extensions"]["code"] for error in errors] == [code]
    assert shape(errors[0]) == expected_shape, errors[0]


async def test_forbidden_field_errors_have_code_and_path(
    client: httpx.AsyncClient, as_staff: Any
) -> None:
    _, headers = await as_staff(models.Role.EDITOR)
    response = await client.post("/graphql", json={"query": "{ apiKeys { id } }"}, headers=headers)
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["path"] == ["apiKeys"]
    assert error["locations"] == [{"line": 1, "column": 3}]


# A resolver failing is Strawberry's to report: the compiled path has no resolvers to fail.
@pytest.mark.parametrize("settings", [{"compiled_queries": "off"}], indirect=True)
async def test_internal_errors_keep_their_path_but_not_their_text(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(cls: type[SiteSettings], model: object) -> SiteSettings:
        raise RuntimeError("SELECT secret FROM settings")

    monkeypatch.setattr(SiteSettings, "from_model", classmethod(explode))
    response = await client.post("/graphql", json={"query": "{ settings { title } }"})
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["message"] == "Internal error."
    assert error["path"] == ["settings"]
    assert error["locations"] == [{"line": 1, "column": 3}]
    assert "secret" not in response.text


@pytest.mark.parametrize(
    ("request_kwargs", "status", "code"),
    [
        ({"method": "POST", "json": {"qeury": "{ __typename }"}}, 400, "BAD_REQUEST"),
        ({"method": "POST", "json": [{"query": "{ __typename }"}]}, 400, "BAD_REQUEST"),
        (
            {"method": "POST", "content": b"{", "headers": {"content-type": "application/json"}},
            400,
            "BAD_REQUEST",
        ),
        (
            {
                "method": "POST",
                "content": b"query={__typename}",
                "headers": {"content-type": "application/x-www-form-urlencoded"},
            },
            415,
            "BAD_REQUEST",
        ),
        (
            {
                "method": "GET",
                "params": {"query": 'mutation { deleteTag(input: {id: "x"}) { deletedId } }'},
            },
            405,
            "BAD_REQUEST",
        ),
        (
            {
                "method": "POST",
                "json": {"query": "{ __typename }"},
                "headers": {"accept": "image/png"},
            },
            406,
            "BAD_REQUEST",
        ),
        (
            {
                "method": "POST",
                "json": {"query": "{ __typename }"},
                "headers": {"authorization": "Bearer not-a-token"},
            },
            401,
            "UNAUTHENTICATED",
        ),
    ],
)
async def test_refused_requests_are_graphql_errors_with_a_code(
    client: httpx.AsyncClient, request_kwargs: dict[str, Any], status: int, code: str
) -> None:
    method = request_kwargs.pop("method")
    response = await client.request(method, "/graphql", **request_kwargs)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == code
    assert error["message"]
    if status == 405:
        assert response.headers["allow"] == "POST"
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
