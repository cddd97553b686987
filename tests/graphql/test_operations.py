"""Which operation runs, with which variables: a document of several operations needs an
operation name; an explicit null is not a missing variable (only a missing one takes the
declared default), on POST and GET, and no cached plan or answer mixes the two up.

On PostgreSQL, anonymous reads take the compiled path (and its caches) in verify mode: each
answer is compared with the general path's."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from db import models
from db.engine import Database
from tests.factories import create_post, create_user
from tests.helpers import error_codes

TWO_OPERATIONS = "query A { settings { title } } query B { posts { totalCount } }"
DEFAULTED = "query Q($n: Int = 2) { posts(first: $n) { nodes { id } } }"
NULLABLE_FILTER = (
    "query F($featured: Boolean = true) { posts(filter: {featured: {eq: $featured}}) "
    "{ nodes { title } } }"
)


@pytest.fixture
async def posts(db: Database) -> None:
    writer = await create_user(db, name="Writer")
    for n in range(5):
        await create_post(db, f"Post {n}", authors=[writer], featured=n == 0)


async def send(
    client: httpx.AsyncClient, method: str, document: str, variables: Any = None, **extra: Any
) -> httpx.Response:
    body = {"query": document, **({} if variables is None else {"variables": variables}), **extra}
    if method == "GET":
        params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
        return await client.get("/graphql", params=params)
    return await client.post("/graphql", json=body)


@pytest.mark.usefixtures("posts")
@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_several_operations_without_a_name_are_refused(
    client: httpx.AsyncClient, method: str
) -> None:
    response = await send(client, method, TWO_OPERATIONS)

    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_REQUEST"]
    assert "operation name" in response.json()["errors"][0]["message"]
    assert "data" not in response.json()

    named = await send(client, method, TWO_OPERATIONS, operationName="B")
    assert named.json() == {"data": {"posts": {"totalCount": 5}}}
    unknown = await send(client, method, TWO_OPERATIONS, operationName="C")
    assert unknown.status_code == 400
    assert error_codes(unknown.json()) == ["BAD_REQUEST"]


@pytest.mark.usefixtures("posts")
@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("null_first", [False, True], ids=["missing-first", "null-first"])
async def test_an_explicit_null_is_not_a_missing_variable(
    app: FastAPI, client: httpx.AsyncClient, method: str, null_first: bool
) -> None:
    """`{}` takes the default (2 posts); `{"n": null}` is no limit (the default 15). Whichever
    arrives first, each gets its own answer, however often it is asked."""
    order = [{"n": None}, {}] if null_first else [{}, {"n": None}]
    sizes: dict[str, list[int]] = {}
    for variables in [*order, *order]:
        response = await send(client, method, DEFAULTED, variables)
        nodes = response.json()["data"]["posts"]["nodes"]
        sizes.setdefault(json.dumps(variables), []).append(len(nodes))

    assert sizes == {"{}": [2, 2], '{"n": null}': [5, 5]}


@pytest.mark.usefixtures("posts")
async def test_a_null_filter_value_is_not_the_default_either(client: httpx.AsyncClient) -> None:
    titles = {}
    for name, variables in {
        "default": {},
        "null": {"featured": None},
        "false": {"featured": False},
    }.items():
        response = await send(client, "POST", NULLABLE_FILTER, variables)
        assert "errors" not in response.json(), response.json()
        titles[name] = len(response.json()["data"]["posts"]["nodes"])

    # eq: null is "no condition" (as Hasura and Strawberry's filters read it), not the default.
    assert titles == {"default": 1, "null": 5, "false": 4}


CREATE_KEY = "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }"


@pytest.mark.usefixtures("posts")
async def test_a_content_key_and_no_key_share_answers_but_staff_do_not(
    app: FastAPI, client: httpx.AsyncClient, as_staff: Any
) -> None:
    """What changes visibility changes the answer: a CONTENT key reads what anonymous
    readers do; a staff token or an ADMIN key never gets (or leaves) that answer, even for
    the very same document and variables."""
    writer = await create_user(db=app.state.db, name="Drafter")
    await create_post(
        app.state.db, "Secret draft", authors=[writer], status=models.PostStatus.DRAFT
    )
    _, admin = await as_staff(models.Role.ADMINISTRATOR)
    keys = {}
    for scope in ("CONTENT", "ADMIN"):
        made = await client.post(
            "/graphql",
            json={"query": CREATE_KEY, "variables": {"input": {"name": scope, "scope": scope}}},
            headers=admin,
        )
        keys[scope] = {"X-Api-Key": made.json()["data"]["createApiKey"]["secret"]}
    document = "{ posts(first: 20) { totalCount } }"

    answers = []
    for headers in ({}, keys["CONTENT"], admin, keys["ADMIN"], {}, keys["CONTENT"]):
        response = await client.get("/graphql", params={"query": document}, headers=headers)
        answers.append(response.json()["data"]["posts"]["totalCount"])

    assert answers == [5, 5, 6, 6, 5, 5]


@pytest.mark.parametrize("name", [5, {}, ["A"], True])
async def test_an_operation_name_that_is_not_a_string_is_a_bad_request(
    client: httpx.AsyncClient, name: Any
) -> None:
    response = await client.post("/graphql", json={"query": TWO_OPERATIONS, "operationName": name})

    assert response.status_code == 400, response.text
    assert error_codes(response.json()) == ["BAD_REQUEST"]
    assert response.json()["errors"][0]["message"] == "`operationName` must be a string."
