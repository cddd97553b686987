"""Regressions found in review: each test names the defect it keeps fixed."""

from __future__ import annotations

import asyncio
import base64
import json

import httpx
from sqlalchemy import delete

from db import models
from db.engine import Database
from graphql_schema.ids import to_global_id
from tests.conftest import StatementCounter
from tests.factories import create_post, create_tag, create_user
from tests.helpers import PASSWORD, bearer, error_codes, graphql, graphql_data, sign_in


async def test_a_deleted_users_token_never_names_a_new_user(
    client: httpx.AsyncClient, db: Database
) -> None:
    await create_user(db, name="Old", role=models.Role.CONTRIBUTOR, password=PASSWORD)
    old = await sign_in(client, "old@example.com")
    async with db.write_sessions.begin() as session:
        await session.execute(delete(models.User))
    await create_user(db, name="New", role=models.Role.ADMINISTRATOR)

    response = await client.post(
        "/graphql", json={"query": "{ viewer { email } }"}, headers=bearer(old)
    )

    assert response.status_code == 401


async def test_the_tag_filter_does_not_reveal_internal_tags(
    client: httpx.AsyncClient, db: Database
) -> None:
    writer = await create_user(db)
    secret = await create_tag(db, "#secret-partner")
    await create_post(db, "Sponsored", authors=[writer], tags=[secret])

    for condition in ('{eq: "hash-secret-partner"}', '{startsWith: "hash-s"}'):
        data = await graphql_data(
            client, f"{{ posts(filter: {{tag: {condition}}}) {{ totalCount }} }}"
        )
        assert data["posts"]["totalCount"] == 0


async def test_parallel_guesses_are_throttled(client: httpx.AsyncClient, db: Database) -> None:
    await create_user(db, name="Ed", password=PASSWORD)

    responses = await asyncio.gather(
        *(
            client.post(
                "/api/v1/auth/token",
                data={"username": "ed@example.com", "password": f"wrong guess {n}"},
            )
            for n in range(20)
        )
    )

    statuses = [r.status_code for r in responses]
    assert statuses.count(401) <= 6  # five free tries, then one more after each delay at most
    assert statuses.count(429) >= 14


async def test_feature_image_captions_are_sanitised(
    client: httpx.AsyncClient, as_staff: object
) -> None:
    _, headers = await as_staff(models.Role.CONTRIBUTOR)  # type: ignore[operator]
    data = await graphql_data(
        client,
        "mutation($i: CreatePostInput!) { createPost(input: $i) { post { featureImageCaption } } }",
        {
            "i": {
                "title": "Pic",
                "featureImageCaption": 'Photo by <a href="https://x.example">X</a><img src=x onerror=alert(1)>',
            }
        },
        headers=headers,
    )
    caption = data["createPost"]["post"]["featureImageCaption"]
    assert "onerror" not in caption
    assert '<a href="https://x.example"' in caption


async def test_authors_cannot_edit_pages_they_are_credited_on(
    client: httpx.AsyncClient, db: Database, as_staff: object
) -> None:
    author, headers = await as_staff(models.Role.AUTHOR)  # type: ignore[operator]
    page = await create_post(db, "About", authors=[author], type=models.PostType.PAGE)

    body = await graphql(
        client,
        "mutation($i: UpdatePageInput!) { updatePage(input: $i) { page { title } } }",
        {"i": {"id": to_global_id("Page", page.id), "title": "Hacked"}},
        headers=headers,
    )

    assert error_codes(body) == ["FORBIDDEN"]


async def test_each_mutation_payload_sees_the_writes_before_it(
    client: httpx.AsyncClient, db: Database, as_staff: object
) -> None:
    _, headers = await as_staff(models.Role.EDITOR)  # type: ignore[operator]
    await create_tag(db, "X")
    await create_tag(db, "Y")
    post = (
        await graphql_data(
            client, 'mutation { createPost(input: {title: "P"}) { post { id } } }', headers=headers
        )
    )["createPost"]["post"]

    data = await graphql_data(
        client,
        """mutation($id: ID!) {
          a: updatePost(input: {id: $id, tags: ["y"]}) { post { tags { slug } } }
          b: updatePost(input: {id: $id, tags: ["x"], title: "P2"}) { post { tags { slug } revisions { title } } }
        }""",
        {"id": post["id"]},
        headers=headers,
    )

    assert data["a"]["post"]["tags"] == [{"slug": "y"}]
    assert data["b"]["post"]["tags"] == [{"slug": "x"}]
    assert [r["title"] for r in data["b"]["post"]["revisions"]] == ["P2", "P"]


async def test_nodes_batches_and_is_capped(
    client: httpx.AsyncClient, db: Database, sql: StatementCounter
) -> None:
    writer = await create_user(db)
    posts = [await create_post(db, f"Post {n}", authors=[writer]) for n in range(10)]
    query = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"

    sql.reset()
    await graphql_data(client, query, {"ids": [to_global_id("Post", posts[0].id)]})
    one = sql.count
    sql.reset()
    await graphql_data(client, query, {"ids": [to_global_id("Post", p.id) for p in posts]})
    assert sql.count == one

    body = await graphql(client, query, {"ids": ["UG9zdDox"] * 101})
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_case_insensitive_filters_fold_non_ascii_letters(
    client: httpx.AsyncClient, db: Database
) -> None:
    writer = await create_user(db)
    await create_post(db, "Éclair recipes", authors=[writer])

    for needle in ("éclair", "ÉCLAIR", "Éclair"):
        data = await graphql_data(
            client,
            "query($c: String) { posts(filter: {title: {contains: $c}}) { totalCount } }",
            {"c": needle},
        )
        assert data["posts"]["totalCount"] == 1


async def test_a_cursor_with_a_naive_datetime_is_bad_input(client: httpx.AsyncClient) -> None:
    raw = json.dumps(["published_at:d,id:d", "2020-01-01T00:00:00", 1]).encode()
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")

    body = await graphql(
        client, "query($a: String) { posts(after: $a) { totalCount } }", {"a": cursor}
    )

    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_concurrent_set_up_creates_one_owner(client: httpx.AsyncClient, db: Database) -> None:
    bodies = [
        {"email": f"owner{n}@example.com", "password": PASSWORD, "name": f"Owner {n}"}
        for n in range(5)
    ]

    responses = await asyncio.gather(
        *(client.post("/api/v1/auth/setup", json=body) for body in bodies)
    )

    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]


async def test_ids_beyond_the_column_range_are_bad_input(client: httpx.AsyncClient) -> None:
    for number in (2**31, 2**63):
        global_id = base64.urlsafe_b64encode(f"Post:{number}".encode()).decode().rstrip("=")
        body = await graphql(client, "query($id: ID!) { post(id: $id) { id } }", {"id": global_id})
        assert error_codes(body) == ["BAD_USER_INPUT"]
    largest = base64.urlsafe_b64encode(f"Post:{2**31 - 1}".encode()).decode().rstrip("=")
    assert (
        await graphql_data(client, "query($id: ID!) { post(id: $id) { id } }", {"id": largest})
    )["post"] is None
