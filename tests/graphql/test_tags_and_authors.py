"""Tags and authors: visibility, counts, nested post connections, ordering."""

from __future__ import annotations

from datetime import timedelta

import httpx

from db import models
from db.base import utcnow
from db.engine import Database
from tests.factories import create_post, create_tag, create_user
from tests.helpers import graphql_data

DRAFT = models.PostStatus.DRAFT

TAGS = """
query Tags($order: [TagOrder!]) {
  tags(orderBy: $order) {
    totalCount
    nodes { name slug visibility postCount posts(first: 1) { totalCount nodes { title } } }
  }
}
"""


async def test_readers_see_public_tags_with_counts_of_visible_posts(
    client: httpx.AsyncClient, db: Database
) -> None:
    writer = await create_user(db)
    news = await create_tag(db, "News")
    art = await create_tag(db, "Art")
    await create_tag(db, "#internal")
    await create_post(
        db, "Old news", authors=[writer], tags=[news], published_at=utcnow() - timedelta(days=2)
    )
    await create_post(db, "New news", authors=[writer], tags=[news, art])
    await create_post(
        db, "Draft news", authors=[writer], tags=[news], status=models.PostStatus.DRAFT
    )
    await create_post(db, "News page", authors=[writer], tags=[news], type=models.PostType.PAGE)

    data = await graphql_data(client, TAGS)

    assert data["tags"]["totalCount"] == 2
    assert data["tags"]["nodes"] == [
        {
            "name": "Art",
            "slug": "art",
            "visibility": "PUBLIC",
            "postCount": 1,
            "posts": {"totalCount": 1, "nodes": [{"title": "New news"}]},
        },
        {
            "name": "News",
            "slug": "news",
            "visibility": "PUBLIC",
            "postCount": 2,
            "posts": {"totalCount": 2, "nodes": [{"title": "New news"}]},
        },
    ]
    hidden = await graphql_data(client, '{ tag(slug: "hash-internal") { name } }')
    assert hidden["tag"] is None


async def test_tags_order_by_post_count_and_filter(client: httpx.AsyncClient, db: Database) -> None:
    writer = await create_user(db)
    one = await create_tag(db, "One")
    two = await create_tag(db, "Two")
    await create_post(db, "A", authors=[writer], tags=[one, two])
    await create_post(db, "B", authors=[writer], tags=[two])

    by_count = await graphql_data(
        client, TAGS, {"order": [{"field": "POST_COUNT", "direction": "DESC"}]}
    )
    assert [n["name"] for n in by_count["tags"]["nodes"]] == ["Two", "One"]

    filtered = await graphql_data(
        client,
        '{ tags(filter: { or: [{ slug: { eq: "one" } }, { name: { startsWith: "tw" } }], not: { slug: { eq: "two" } } }) { nodes { slug } } }',
    )
    assert filtered["tags"]["nodes"] == [{"slug": "one"}]


async def test_nested_posts_paginate_per_tag(client: httpx.AsyncClient, db: Database) -> None:
    writer = await create_user(db)
    tag = await create_tag(db, "Series")
    now = utcnow()
    for n in range(1, 5):
        await create_post(
            db, f"Part {n}", authors=[writer], tags=[tag], published_at=now - timedelta(days=5 - n)
        )
    query = """query($after: String) { tag(slug: "series") { posts(first: 3, after: $after) {
        pageInfo { hasNextPage endCursor } nodes { title } } } }"""

    first = await graphql_data(client, query)
    page = first["tag"]["posts"]
    assert [n["title"] for n in page["nodes"]] == ["Part 4", "Part 3", "Part 2"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await graphql_data(client, query, {"after": page["pageInfo"]["endCursor"]})
    assert [n["title"] for n in rest["tag"]["posts"]["nodes"]] == ["Part 1"]
    assert rest["tag"]["posts"]["pageInfo"]["hasNextPage"] is False


async def test_authors_appear_once_they_have_a_visible_post(
    client: httpx.AsyncClient, db: Database
) -> None:
    ada = await create_user(db, name="Ada")
    bob = await create_user(db, name="Bob")
    await create_user(db, name="Cy")  # no posts at all
    await create_post(db, "Published", authors=[ada])
    await create_post(db, "Unfinished", authors=[bob], status=models.PostStatus.DRAFT)

    data = await graphql_data(
        client, "{ authors { totalCount nodes { name slug postCount posts { nodes { title } } } } }"
    )

    assert data["authors"] == {
        "totalCount": 1,
        "nodes": [
            {
                "name": "Ada",
                "slug": "ada",
                "postCount": 1,
                "posts": {"nodes": [{"title": "Published"}]},
            }
        ],
    }
    assert (await graphql_data(client, '{ author(slug: "bob") { name } }'))["author"] is None


async def test_authors_order_by_post_count(client: httpx.AsyncClient, db: Database) -> None:
    ada = await create_user(db, name="Ada")
    bob = await create_user(db, name="Bob")
    await create_post(db, "One", authors=[bob])
    await create_post(db, "Two", authors=[bob, ada])

    data = await graphql_data(
        client,
        '{ authors(orderBy: [{field: POST_COUNT, direction: DESC}], filter: {name: {ne: "Nobody"}}) { nodes { name postCount } } }',
    )

    assert data["authors"]["nodes"] == [
        {"name": "Bob", "postCount": 2},
        {"name": "Ada", "postCount": 1},
    ]


async def test_author_profiles_never_expose_an_email(client: httpx.AsyncClient) -> None:
    data = await graphql_data(client, '{ __type(name: "Author") { fields { name } } }')
    assert "email" not in {field["name"] for field in data["__type"]["fields"]}


async def test_an_author_credited_only_on_a_page_is_visible_everywhere(
    client: httpx.AsyncClient, db: Database
) -> None:
    """One rule: an author shown on anything a reader sees can be found every way."""
    paula = await create_user(db, name="Paula")
    await create_post(db, "About us", authors=[paula], type=models.PostType.PAGE, slug="about")
    drafter = await create_user(db, name="Drafter")
    await create_post(db, "Draft page", authors=[drafter], type=models.PostType.PAGE, status=DRAFT)

    data = await graphql_data(
        client,
        '{ page(slug: "about") { authors { id name } primaryAuthor { name } } '
        'author(slug: "paula") { name postCount } '
        "authors { totalCount nodes { name } } }",
    )

    author_id = data["page"]["authors"][0]["id"]
    assert data["page"] == {
        "authors": [{"id": author_id, "name": "Paula"}],
        "primaryAuthor": {"name": "Paula"},
    }
    assert data["author"] == {"name": "Paula", "postCount": 0}  # postCount counts posts
    assert data["authors"] == {"totalCount": 1, "nodes": [{"name": "Paula"}]}
    by_id = await graphql_data(
        client,
        "query($id: ID!) { node(id: $id) { ... on Author { name } } nodes(ids: [$id]) { id } }",
        {"id": author_id},
    )
    assert by_id == {"node": {"name": "Paula"}, "nodes": [{"id": author_id}]}
    hidden = await graphql_data(client, '{ author(slug: "drafter") { name } }')
    assert hidden == {"author": None}
