"""GraphQL over HTTP: content negotiation on Accept and the status codes of
application/graphql-response+json, while application/json answers as it always has."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from graphql_schema.transport import (
    APPLICATION_JSON,
    GRAPHQL_RESPONSE_JSON,
    graphql_response_status,
    negotiate,
)
from tests.helpers import error_codes

MODERN = {"accept": GRAPHQL_RESPONSE_JSON}
LEGACY = {"accept": APPLICATION_JSON}


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, APPLICATION_JSON),
        ("", APPLICATION_JSON),
        ("*/*", APPLICATION_JSON),
        ("application/*", APPLICATION_JSON),
        ("application/json", APPLICATION_JSON),
        ("application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json; charset=utf-8", GRAPHQL_RESPONSE_JSON),
        # Apollo Client and the spec's recommended header
        ("application/graphql-response+json,application/json;q=0.9", GRAPHQL_RESPONSE_JSON),
        (
            "application/graphql-response+json; charset=utf-8, application/json; charset=utf-8",
            GRAPHQL_RESPONSE_JSON,
        ),
        ("application/json, application/graphql-response+json", APPLICATION_JSON),
        ("application/json;q=0.5, application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json, */*", GRAPHQL_RESPONSE_JSON),
        ("*/*, application/graphql-response+json;q=0", APPLICATION_JSON),
        ("text/html,application/xhtml+xml,*/*;q=0.8", APPLICATION_JSON),  # a browser
        ("Application/GraphQL-Response+JSON", GRAPHQL_RESPONSE_JSON),
        ("text/html", None),
        ("application/json;q=0", None),
        ("application/json;q=nonsense", None),
        ("garbage", None),
    ],
)
def test_negotiation(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept) == expected


async def post(
    client: httpx.AsyncClient, body: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await client.post("/graphql", json=body, headers=headers)


async def test_a_successful_query_answers_in_the_accepted_type(client: httpx.AsyncClient) -> None:
    query = {"query": "{ settings { title } }"}
    modern = await post(client, query, MODERN)
    legacy = await post(client, query, LEGACY)
    wildcard = await post(client, query, {"accept": "*/*"})
    apollo = await post(
        client, query, {"accept": "application/graphql-response+json,application/json;q=0.9"}
    )

    assert modern.status_code == 200
    assert modern.headers["content-type"] == "application/graphql-response+json; charset=utf-8"
    assert modern.json()["data"]["settings"]["title"]
    assert legacy.headers["content-type"] == "application/json"
    assert wildcard.headers["content-type"] == "application/json"
    assert apollo.headers["content-type"].startswith(GRAPHQL_RESPONSE_JSON)
    assert modern.json() == legacy.json() == wildcard.json() == apollo.json()


async def test_no_accept_header_is_application_json(client: httpx.AsyncClient) -> None:
    request = client.build_request("POST", "/graphql", json={"query": "{ __typename }"})
    del request.headers["accept"]
    response = await client.send(request)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"query": "{ settings {"}, "GRAPHQL_PARSE_FAILED"),
        ({"query": "{ settings { titel } }"}, "GRAPHQL_VALIDATION_FAILED"),
        (
            {
                "query": "query($n: Int) { posts(first: $n) { totalCount } }",
                "variables": {"n": "x"},
            },
            "BAD_USER_INPUT",
        ),
        ({"query": "query($n: Int!) { posts(first: $n) { totalCount } }"}, "BAD_USER_INPUT"),
        (
            {"query": "{ settings { " + " ".join(f"a{i}: title" for i in range(31)) + " } }"},
            "QUERY_TOO_COMPLEX",
        ),
    ],
)
async def test_request_errors_are_400_without_data_in_the_new_type_and_200_in_json(
    client: httpx.AsyncClient, body: dict[str, Any], code: str
) -> None:
    modern = await post(client, body, MODERN)
    legacy = await post(client, body, LEGACY)

    assert modern.status_code == 400
    assert modern.headers["content-type"].startswith(GRAPHQL_RESPONSE_JSON)
    assert "data" not in modern.json()
    assert error_codes(modern.json()) == [code]
    # application/json is unchanged: 200 and "data": null.
    assert legacy.status_code == 200
    assert legacy.json()["data"] is None
    assert error_codes(legacy.json()) == [code]


async def test_field_errors_are_200_in_both_types(client: httpx.AsyncClient) -> None:
    # Staff only: an anonymous caller gets a field error once execution has started.
    body = {"query": "{ users { totalCount } }"}
    modern = await post(client, body, MODERN)
    legacy = await post(client, body, LEGACY)

    assert modern.status_code == legacy.status_code == 200
    assert modern.json() == legacy.json()
    [error] = modern.json()["errors"]
    assert error["path"] == ["users"]
    assert error["extensions"]["code"] in {"UNAUTHENTICATED", "FORBIDDEN"}


@pytest.mark.parametrize(
    "body",
    [
        {"qeury": "{ __typename }"},
        {"query": 7},
        {"query": "{ __typename }", "variables": [7]},
        {"query": "{ __typename }", "extensions": "x"},
        {"query": "query A { __typename }", "operationName": "B"},
    ],
)
@pytest.mark.parametrize("headers", [MODERN, LEGACY])
async def test_malformed_requests_are_400_with_a_coded_graphql_error(
    client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str]
) -> None:
    response = await post(client, body, headers)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(headers["accept"])
    assert error_codes(response.json()) == ["BAD_REQUEST"]
    assert "data" not in response.json()


@pytest.mark.parametrize("headers", [MODERN, LEGACY])
async def test_unparseable_json_is_400(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.post(
        "/graphql", content=b'{"query":', headers={**headers, "content-type": "application/json"}
    )
    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_REQUEST"]


async def test_get_queries_negotiate_too(client: httpx.AsyncClient) -> None:
    ok = await client.get("/graphql", params={"query": "{ __typename }"}, headers=MODERN)
    broken = await client.get("/graphql", params={"query": "{"}, headers=MODERN)
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith(GRAPHQL_RESPONSE_JSON)
    assert broken.status_code == 400


async def test_mutations_over_get_stay_405_in_both_types(client: httpx.AsyncClient) -> None:
    for headers in (MODERN, LEGACY):
        response = await client.get(
            "/graphql",
            params={"query": 'mutation { deletePost(input: {id: "UG9zdDox"}) { deletedId } }'},
            headers=headers,
        )
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"


async def test_nothing_acceptable_is_406(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": "{ __typename }"}, {"accept": "text/html"})
    assert response.status_code == 406
    # A browser asking for the page still gets GraphiQL.
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"data": {"a": 1}}, 200),
        ({"data": None, "errors": [{"message": "x", "path": ["a"]}]}, 200),  # nulled by a field
        ({"data": None, "errors": [{"message": "x", "extensions": {"code": "X"}}]}, 400),
        (
            {"errors": [{"message": "x", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]},
            500,
        ),
        (
            {"errors": [{"message": "x", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]},
            200,
        ),
    ],
)
def test_status_codes_of_the_new_media_type(body: dict[str, Any], status: int) -> None:
    assert graphql_response_status(body) == status
