"""Bad input is the client's error, never the server's: each class an outside test found
answers a coded error (BAD_USER_INPUT, QUERY_TOO_COMPLEX, GRAPHQL_*, a 4xx for a request
that is not GraphQL at all) and writes nothing, for anonymous readers (the compiled path on
PostgreSQL) and staff (the general path), on both databases."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from db import models
from db.engine import Database
from tests.factories import create_post, create_user
from tests.helpers import error_codes

POSTS_FILTERED = "query($f: PostFilter) { posts(filter: $f) { nodes { title status } } }"
PAGED = "query($c: String) { posts(first: 2, after: $c) { nodes { title } } }"
SEARCH = "query($s: String) { posts(search: $s) { totalCount } }"
EARLY = "0001-01-01T00:00:00+01:00"  # year 0 in UTC
LATE = "9999-12-31T23:59:59-01:00"  # year 10000 in UTC


def nested_filter(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"slug": {"eq": "x"}}
    for _ in range(levels):
        value = {"not": value}
    return value


def raw_id(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def cursor(*values: Any) -> str:
    raw = json.dumps(["published_at:d,id:d", *values]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.fixture
async def posts(db: Database) -> None:
    writer = await create_user(db, name="Writer")
    for n in range(3):
        await create_post(db, f"Post {n}", authors=[writer])


async def ask(
    client: httpx.AsyncClient, document: str, variables: Any, headers: dict[str, str]
) -> httpx.Response:
    response = await client.post(
        "/graphql", json={"query": document, "variables": variables}, headers=headers
    )
    assert response.status_code < 500, response.text
    return response


@pytest.mark.usefixtures("posts")
@pytest.mark.parametrize(
    ("document", "variables", "code"),
    [
        # Filters nested deeper than any frontend writes (the SQL below would overflow).
        (POSTS_FILTERED, {"f": nested_filter(40)}, "QUERY_TOO_COMPLEX"),
        (POSTS_FILTERED, {"f": nested_filter(300)}, "QUERY_TOO_COMPLEX"),
        # Lists longer than any frontend sends (SQLite refuses an `or` of ~1,000 terms),
        # and nesting hidden in a variable's default.
        (POSTS_FILTERED, {"f": {"or": [{"slug": {"eq": "a"}}] * 998}}, "QUERY_TOO_COMPLEX"),
        (POSTS_FILTERED, {"f": {"and": [{"featured": {"eq": True}}] * 400}}, "QUERY_TOO_COMPLEX"),
        (
            "query($f: PostFilter = "
            + "{not: " * 40
            + "{featured: {eq: true}}"
            + "}" * 40
            + ") { posts(filter: $f) { totalCount } }",
            {},
            "QUERY_TOO_COMPLEX",
        ),
        # An ordering naming a field twice (each term grows the keyset condition).
        (
            "query($o: [PostOrder!]) { posts(orderBy: $o) { totalCount } }",
            {"o": [{"field": "TITLE"}] * 100},
            "BAD_USER_INPUT",
        ),
        (
            "{ tags(orderBy: [{field: NAME}, {field: NAME, direction: DESC}]) { totalCount } }",
            {},
            "BAD_USER_INPUT",
        ),
        # Instants that leave the calendar once converted to UTC.
        (POSTS_FILTERED, {"f": {"publishedAt": {"gt": EARLY}}}, "BAD_USER_INPUT"),
        (POSTS_FILTERED, {"f": {"createdAt": {"lte": LATE}}}, "BAD_USER_INPUT"),
        (
            f'{{ posts(filter: {{publishedAt: {{eq: "{LATE}"}}}}) {{ nodes {{ id }} }} }}',
            {},
            "GRAPHQL_VALIDATION_FAILED",  # a literal of no DateTime: the document is invalid
        ),
        # NUL characters, which PostgreSQL stores in no text: in variables and in literals.
        ("query($s: String!) { post(slug: $s) { id } }", {"s": "a\x00b"}, "BAD_USER_INPUT"),
        (SEARCH, {"s": "ocean\x00"}, "BAD_USER_INPUT"),
        (POSTS_FILTERED, {"f": {"title": {"in": ["a", "b\x00"]}}}, "BAD_USER_INPUT"),
        ('{ tag(slug: "a\\u0000b") { id } }', {}, "BAD_USER_INPUT"),
        # Searches longer than a search box.
        (SEARCH, {"s": "word " * 20_000}, "BAD_USER_INPUT"),
        (SEARCH, {"s": " ".join(["w"] * 33)}, "BAD_USER_INPUT"),
        (SEARCH, {"s": "x" * 501}, "BAD_USER_INPUT"),
        # Forged cursors: numbers no column holds, booleans, instants with no UTC form,
        # JSON nested past any parser's recursion.
        (PAGED, {"c": cursor("2026-01-01T00:00:00+00:00", 2**31)}, "BAD_USER_INPUT"),
        (PAGED, {"c": cursor("2026-01-01T00:00:00+00:00", 2**70)}, "BAD_USER_INPUT"),
        (PAGED, {"c": cursor("2026-01-01T00:00:00+00:00", True)}, "BAD_USER_INPUT"),
        (PAGED, {"c": cursor(EARLY, 1)}, "BAD_USER_INPUT"),
        (
            PAGED,
            {"c": base64.urlsafe_b64encode(b"[" * 2000 + b"]" * 2000).decode()},
            "BAD_USER_INPUT",
        ),
        # Ids written any way but the one to_global_id writes (int() reads "٣" and "3_0").
        ("query($id: ID!) { node(id: $id) { id } }", {"id": raw_id("Post:٣")}, "BAD_USER_INPUT"),
        ("query($id: ID!) { node(id: $id) { id } }", {"id": raw_id("Post:3_0")}, "BAD_USER_INPUT"),
        ("query($id: ID!) { post(id: $id) { id } }", {"id": raw_id("Post:01")}, "BAD_USER_INPUT"),
        # Integers: a 5,000-digit literal, and page sizes whose product passes 64 bits.
        ("{ posts(first: " + "9" * 5000 + ") { totalCount } }", {}, "QUERY_TOO_COMPLEX"),
        (
            "{ tags(first: 2147483647) { nodes { posts(first: 2147483647) { nodes { tags { "
            "posts(first: 2147483647) { nodes { id } } } } } } } }",
            {},
            "QUERY_TOO_COMPLEX",
        ),
    ],
)
async def test_bad_arguments_are_coded_client_errors(
    client: httpx.AsyncClient,
    caller: dict[str, str],
    document: str,
    variables: dict[str, Any],
    code: str,
) -> None:
    body = (await ask(client, document, variables, caller)).json()

    assert not any((body.get("data") or {}).values()), body  # nothing, or null fields
    assert error_codes(body)[:1] == [code], body


@pytest.mark.usefixtures("posts")
async def test_the_largest_search_and_a_year_one_filter_are_fine(
    client: httpx.AsyncClient, caller: dict[str, str]
) -> None:
    search = (await ask(client, SEARCH, {"s": " ".join(["post"] * 32)}, caller)).json()
    assert search == {"data": {"posts": {"totalCount": 3}}}
    early = {"f": {"publishedAt": {"gt": "0001-01-01T00:00:00Z"}}}
    listed = (await ask(client, POSTS_FILTERED, early, caller)).json()
    assert len(listed["data"]["posts"]["nodes"]) == 3


@pytest.mark.parametrize(
    "body",
    [
        b"null",
        b"123",
        b'"x"',
        b"true",
        b"[1]",
        b'{"query": "{ __typename }", "variables": {"s": "\\ud800"}}',  # a lone surrogate
        b'{"query": "{ posts(search: \\"\xff\xfe\\") { totalCount } }"}',  # not UTF-8
        b"[" * 5000 + b"]" * 5000,
        b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * 5000 + b"]" * 5000 + b"}}",
        b'{"query": "{ __typename }", "variables": {"a": ' + b"7" * 5000 + b"}}",
    ],
    ids=[
        "null",
        "number",
        "string",
        "boolean",
        "array-of-number",
        "lone-surrogate",
        "invalid-utf8",
        "deep-array",
        "deep-variables",
        "long-integer",
    ],
)
async def test_bodies_that_are_not_graphql_requests_are_400(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 400, response.text
    assert error_codes(response.json()) == ["BAD_REQUEST"]
    again = await client.post("/graphql", json={"query": "{ __typename }"})
    assert again.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    "variables",
    ["[" * 5000 + "]" * 5000, "7" * 5000, '{"s": "\\ud800"}'],
    ids=["deep", "long", "surrogate"],
)
async def test_get_variables_that_are_not_json_we_can_read_are_400(
    client: httpx.AsyncClient, variables: str
) -> None:
    response = await client.get(
        "/graphql", params={"query": "{ __typename }", "variables": variables}
    )

    assert response.status_code == 400, response.text


PUBLISH = "mutation($id: ID!, $at: DateTime) { publishPost(input: {id: $id, publishedAt: $at}) { post { status publishedAt } userErrors { field code } } }"
CREATE = "mutation($input: CreatePostInput!) { createPost(input: $input) { post { id } userErrors { field code } } }"


async def test_bad_writes_are_refused_and_write_nothing(
    client: httpx.AsyncClient, db: Database, as_staff: Any
) -> None:
    _, editor = await as_staff(models.Role.EDITOR)
    draft = await client.post(
        "/graphql",
        json={"query": CREATE, "variables": {"input": {"title": "Draft"}}},
        headers=editor,
    )
    post_id = draft.json()["data"]["createPost"]["post"]["id"]

    for at in (EARLY, LATE):
        body = (await ask(client, PUBLISH, {"id": post_id, "at": at}, editor)).json()
        assert error_codes(body) == ["BAD_USER_INPUT"], body
    for at in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"):
        body = (await ask(client, PUBLISH, {"id": post_id, "at": at}, editor)).json()
        payload = body["data"]["publishPost"]
        assert payload == {
            "post": None,
            "userErrors": [{"field": ["input", "publishedAt"], "code": "INVALID"}],
        }
    for field in ("title", "markdown", "slug", "customExcerpt"):
        value = {"title": "T", field: "with a \x00 NUL"}
        body = (await ask(client, CREATE, {"input": value}, editor)).json()
        assert error_codes(body) == ["BAD_USER_INPUT"], body

    async with db.read_sessions() as session:
        posts = (
            await session.execute(
                select(models.Post.status, func.count()).group_by(models.Post.status)
            )
        ).all()
    assert posts == [(models.PostStatus.DRAFT, 1)]
