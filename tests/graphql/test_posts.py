"""Reading posts: visibility, lookups, pagination, filters, ordering, search."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from db import models
from db.base import utcnow
from db.engine import Database
from tests.factories import create_post, create_tag, create_user
from tests.helpers import error_codes, graphql, graphql_data

POST_TITLES = "query Titles($first: Int, $after: String, $last: Int, $before: String) { posts(first: $first, after: $after, last: $last, before: $before) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { title } } } }"

POST_BY_SLUG = """
query Post($slug: String!) {
  post(slug: $slug) {
    id title slug url status html plaintext markdown excerpt readingTime featured revisions { id }
    publishedAt createdAt updatedAt
    authors { name slug } primaryAuthor { slug } tags { slug } primaryTag { slug }
  }
}
"""


def titles(data: dict[str, Any]) -> list[str]:
    return [edge["node"]["title"] for edge in data["posts"]["edges"]]


async def test_anonymous_readers_see_only_published_posts_that_are_due(
    client: httpx.AsyncClient, db: Database
) -> None:
    writer = await create_user(db)
    await create_post(db, "Live", authors=[writer])
    await create_post(db, "Draft", authors=[writer], status=models.PostStatus.DRAFT)
    await create_post(
        db,
        "Next week",
        authors=[writer],
        status=models.PostStatus.SCHEDULED,
        published_at=utcnow() + timedelta(days=7),
    )
    await create_post(
        db,
        "Was scheduled",
        authors=[writer],
        status=models.PostStatus.SCHEDULED,
        published_at=utcnow() - timedelta(seconds=1),
    )
    await create_post(db, "A page", authors=[writer], type=models.PostType.PAGE)

    data = await graphql_data(client, "{ posts { totalCount nodes { title status } } }")

    assert data["posts"]["totalCount"] == 2
    assert {(n["title"], n["status"]) for n in data["posts"]["nodes"]} == {
        ("Live", "PUBLISHED"),
        ("Was scheduled", "PUBLISHED"),
    }
    for hidden in ("draft", "next-week", "a-page"):
        found = await graphql_data(client, POST_BY_SLUG, {"slug": hidden})
        assert found["post"] is None


async def test_a_post_by_slug_has_every_field(client: httpx.AsyncClient, db: Database) -> None:
    ada = await create_user(db, name="Ada Lovelace")
    grace = await create_user(db, name="Grace Hopper")
    news = await create_tag(db, "News")
    internal = await create_tag(db, "#internal")
    post = await create_post(
        db,
        "Hello World",
        authors=[ada, grace],
        tags=[news, internal],
        markdown="# Title\n\nHello <script>alert(1)</script> **world**.",
    )

    data = await graphql_data(client, POST_BY_SLUG, {"slug": "hello-world"})

    got = data["post"]
    assert got["title"] == "Hello World"
    assert got["url"] == "http://localhost:8000/hello-world/"
    assert got["status"] == "PUBLISHED"
    assert "<strong>world</strong>" in got["html"]
    assert "script" not in got["html"]
    assert got["plaintext"] == "Title\nHello world."
    assert got["markdown"] is None  # staff only
    assert got["revisions"] is None  # staff only
    assert got["excerpt"] == "Title Hello world."
    assert got["readingTime"] == 1
    assert [a["slug"] for a in got["authors"]] == ["ada-lovelace", "grace-hopper"]
    assert got["primaryAuthor"] == {"slug": "ada-lovelace"}
    assert got["tags"] == [{"slug": "news"}]  # the internal tag is not shown to readers
    assert got["primaryTag"] == {"slug": "news"}
    by_id = await graphql_data(
        client, "query($id: ID!) { post(id: $id) { slug } }", {"id": got["id"]}
    )
    assert by_id["post"] == {"slug": "hello-world"}
    assert post.published_at is not None
    assert got["publishedAt"].startswith(post.published_at.strftime("%Y-%m-%dT%H:%M:%S"))


async def test_an_internal_first_tag_is_never_primary(
    client: httpx.AsyncClient, db: Database
) -> None:
    writer = await create_user(db)
    internal = await create_tag(db, "#hidden")
    news = await create_tag(db, "News")
    await create_post(db, "Tagged", authors=[writer], tags=[internal, news])

    data = await graphql_data(client, POST_BY_SLUG, {"slug": "tagged"})

    assert data["post"]["tags"] == [{"slug": "news"}]
    assert data["post"]["primaryTag"] is None


async def test_lookup_needs_exactly_one_of_id_and_slug(client: httpx.AsyncClient) -> None:
    body = await graphql(client, "{ post { title } }")
    assert error_codes(body) == ["BAD_USER_INPUT"]
    body = await graphql(client, '{ post(id: "UG9zdDox", slug: "x") { title } }')
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def _five_posts(db: Database) -> None:
    writer = await create_user(db)
    now = utcnow()
    for day in range(1, 6):
        await create_post(
            db, f"Day {day}", authors=[writer], published_at=now - timedelta(days=6 - day)
        )


async def test_forward_pagination_walks_every_post_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    await _five_posts(db)

    first = await graphql_data(client, POST_TITLES, {"first": 2})
    assert titles(first) == ["Day 5", "Day 4"]
    info = first["posts"]["pageInfo"]
    assert info["hasNextPage"] is True
    assert info["hasPreviousPage"] is False
    assert first["posts"]["totalCount"] == 5

    second = await graphql_data(client, POST_TITLES, {"first": 2, "after": info["endCursor"]})
    assert titles(second) == ["Day 3", "Day 2"]
    assert second["posts"]["pageInfo"]["hasPreviousPage"] is True

    third = await graphql_data(
        client, POST_TITLES, {"first": 2, "after": second["posts"]["pageInfo"]["endCursor"]}
    )
    assert titles(third) == ["Day 1"]
    assert third["posts"]["pageInfo"]["hasNextPage"] is False


async def test_backward_pagination_with_last_and_before(
    client: httpx.AsyncClient, db: Database
) -> None:
    await _five_posts(db)

    tail = await graphql_data(client, POST_TITLES, {"last": 2})
    assert titles(tail) == ["Day 2", "Day 1"]
    assert tail["posts"]["pageInfo"]["hasPreviousPage"] is True
    assert tail["posts"]["pageInfo"]["hasNextPage"] is False

    before = await graphql_data(
        client, POST_TITLES, {"last": 2, "before": tail["posts"]["pageInfo"]["startCursor"]}
    )
    assert titles(before) == ["Day 4", "Day 3"]
    assert before["posts"]["pageInfo"]["hasNextPage"] is True


async def test_cursors_are_stable_when_posts_are_inserted(
    client: httpx.AsyncClient, db: Database
) -> None:
    await _five_posts(db)
    first = await graphql_data(client, POST_TITLES, {"first": 2})
    writer = await create_user(db)
    await create_post(db, "Breaking", authors=[writer], published_at=utcnow())

    second = await graphql_data(
        client, POST_TITLES, {"first": 2, "after": first["posts"]["pageInfo"]["endCursor"]}
    )

    assert titles(second) == ["Day 3", "Day 2"]  # no repeat of Day 4, no skip


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"first": 101}, "between 0 and 100"),
        ({"first": -1}, "between 0 and 100"),
        ({"first": 1, "last": 1}, "not both"),
        ({"after": "not-a-cursor"}, "Invalid cursor"),
    ],
)
async def test_bad_pagination_arguments_are_user_errors(
    client: httpx.AsyncClient, variables: dict[str, Any], message: str
) -> None:
    body = await graphql(client, POST_TITLES, variables)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert message in body["errors"][0]["message"]


async def test_first_100_is_allowed_and_default_is_15(
    client: httpx.AsyncClient, db: Database
) -> None:
    writer = await create_user(db)
    for n in range(16):
        await create_post(db, f"Post {n}", authors=[writer])

    default = await graphql_data(client, "{ posts { nodes { id } } }")
    most = await graphql_data(client, "{ posts(first: 100) { nodes { id } } }")

    assert len(default["posts"]["nodes"]) == 15
    assert len(most["posts"]["nodes"]) == 16


async def test_a_cursor_from_another_ordering_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    await _five_posts(db)
    page = await graphql_data(client, POST_TITLES, {"first": 1})
    cursor = page["posts"]["pageInfo"]["endCursor"]

    body = await graphql(
        client,
        "query($a: String) { posts(after: $a, orderBy: [{field: TITLE}]) { nodes { id } } }",
        {"a": cursor},
    )

    assert error_codes(body) == ["BAD_USER_INPUT"]


FILTERED = "query($filter: PostFilter, $orderBy: [PostOrder!]) { posts(first: 100, filter: $filter, orderBy: $orderBy) { totalCount nodes { title } } }"


async def _library(db: Database) -> None:
    ada = await create_user(db, name="Ada")
    bob = await create_user(db, name="Bob")
    tech = await create_tag(db, "Tech")
    food = await create_tag(db, "Food")
    now = utcnow()
    await create_post(
        db, "Alpha", authors=[ada], tags=[tech], featured=True, published_at=now - timedelta(days=3)
    )
    await create_post(db, "Beta", authors=[bob], tags=[food], published_at=now - timedelta(days=2))
    await create_post(
        db, "Gamma", authors=[ada, bob], tags=[tech, food], published_at=now - timedelta(days=1)
    )


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"tag": {"eq": "tech"}}, ["Gamma", "Alpha"]),
        ({"tag": {"ne": "tech"}}, ["Beta"]),
        ({"author": {"in": ["bob"]}}, ["Gamma", "Beta"]),
        ({"featured": {"eq": True}}, ["Alpha"]),
        ({"title": {"contains": "MM"}}, ["Gamma"]),
        ({"title": {"startsWith": "al"}}, ["Alpha"]),
        ({"slug": {"in": ["alpha", "beta"]}}, ["Beta", "Alpha"]),
        ({"slug": {"ne": "beta"}}, ["Gamma", "Alpha"]),
        ({"status": {"eq": "PUBLISHED"}}, ["Gamma", "Beta", "Alpha"]),
        ({"status": {"in": ["DRAFT", "SCHEDULED"]}}, []),
        ({"and": [{"tag": {"eq": "tech"}}, {"author": {"eq": "bob"}}]}, ["Gamma"]),
        ({"or": [{"title": {"eq": "Alpha"}}, {"title": {"eq": "Beta"}}]}, ["Beta", "Alpha"]),
        ({"not": {"tag": {"eq": "food"}}}, ["Alpha"]),
        ({"tag": {"eq": "tech"}, "not": {"featured": {"eq": True}}}, ["Gamma"]),
    ],
)
async def test_filters_compose(
    client: httpx.AsyncClient, db: Database, filter: dict[str, Any], expected: list[str]
) -> None:
    await _library(db)
    data = await graphql_data(client, FILTERED, {"filter": filter})
    assert [n["title"] for n in data["posts"]["nodes"]] == expected
    assert data["posts"]["totalCount"] == len(expected)


async def test_datetime_and_id_filters(client: httpx.AsyncClient, db: Database) -> None:
    await _library(db)
    cutoff = (utcnow() - timedelta(days=2, hours=12)).isoformat()
    newer = await graphql_data(client, FILTERED, {"filter": {"publishedAt": {"gt": cutoff}}})
    assert [n["title"] for n in newer["posts"]["nodes"]] == ["Gamma", "Beta"]

    alpha = await graphql_data(client, '{ post(slug: "alpha") { id } }')
    by_id = await graphql_data(client, FILTERED, {"filter": {"id": {"in": [alpha["post"]["id"]]}}})
    assert [n["title"] for n in by_id["posts"]["nodes"]] == ["Alpha"]

    wrong_type = await graphql(client, FILTERED, {"filter": {"id": {"eq": "VGFnOjE"}}})  # Tag:1
    assert error_codes(wrong_type) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_in_lists_beside_the_status_field(
    client: httpx.AsyncClient, db: Database, method: str
) -> None:
    """Two or more items in an `in` list, with `status` (whose rule reads the clock) asked
    for: the compiled path once failed to bind its clock here."""
    await _library(db)
    alpha = await graphql_data(client, '{ post(slug: "alpha") { id } }')
    beta = await graphql_data(client, '{ post(slug: "beta") { id } }')
    ids = json.dumps([alpha["post"]["id"], beta["post"]["id"]])
    document = (
        '{ byTag: posts(filter: {tag: {in: ["tech", "food"]}}) { nodes { title status } } '
        f"byId: posts(filter: {{id: {{in: {ids}}}}}) {{ nodes {{ title status }} }} "
        'tag(slug: "tech") { posts(filter: {author: {in: ["ada", "bob"]}}) '
        "{ nodes { title status } } } }"
    )
    if method == "GET":
        response = await client.get("/graphql", params={"query": document})
    else:
        response = await client.post("/graphql", json={"query": document})

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    published = [{"title": t, "status": "PUBLISHED"} for t in ("Gamma", "Beta", "Alpha")]
    assert data["byTag"]["nodes"] == published
    assert data["byId"]["nodes"] == published[1:]
    assert data["tag"]["posts"]["nodes"] == [published[0], published[2]]


async def test_order_by_title_ascending_then_descending(
    client: httpx.AsyncClient, db: Database
) -> None:
    await _library(db)
    ascending = await graphql_data(
        client, FILTERED, {"orderBy": [{"field": "TITLE", "direction": "ASC"}]}
    )
    descending = await graphql_data(client, FILTERED, {"orderBy": [{"field": "TITLE"}]})
    assert [n["title"] for n in ascending["posts"]["nodes"]] == ["Alpha", "Beta", "Gamma"]
    assert [n["title"] for n in descending["posts"]["nodes"]] == ["Gamma", "Beta", "Alpha"]


SEARCH = "query($q: String!, $after: String) { posts(search: $q, first: 2, after: $after) { totalCount pageInfo { endCursor hasNextPage } nodes { title } } }"


async def test_search_ranks_title_matches_first(client: httpx.AsyncClient, db: Database) -> None:
    writer = await create_user(db)
    await create_post(db, "Gardening for beginners", authors=[writer], markdown="Soil and seeds.")
    await create_post(db, "City life", authors=[writer], markdown="A small garden on a balcony.")
    await create_post(db, "Unrelated", authors=[writer], markdown="Nothing to see.")
    await create_post(
        db, "Secret garden", authors=[writer], status=models.PostStatus.DRAFT, markdown="garden"
    )

    data = await graphql_data(client, SEARCH, {"q": "garden"})

    assert data["posts"]["totalCount"] == 2  # stemmed: gardening matches; the draft does not
    assert [n["title"] for n in data["posts"]["nodes"]] == ["Gardening for beginners", "City life"]
    rest = await graphql_data(
        client, SEARCH, {"q": "garden", "after": data["posts"]["pageInfo"]["endCursor"]}
    )
    assert rest["posts"]["nodes"] == []


@pytest.mark.parametrize("query", ['"unbalanced', "NEAR(", "a* OR", "-", "   "])
async def test_search_syntax_in_user_input_is_harmless(
    client: httpx.AsyncClient, db: Database, query: str
) -> None:
    writer = await create_user(db)
    await create_post(db, "Anything", authors=[writer])
    body = await graphql(client, SEARCH, {"q": query})
    assert "errors" not in body
    assert isinstance(body["data"]["posts"]["totalCount"], int)
