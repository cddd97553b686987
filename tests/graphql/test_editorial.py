"""The editorial workflow through GraphQL: create, validate, slug, publish, schedule,
revise, restore, preview, settings, delete; the database is checked after failures."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import func, select, update

from db import models
from db.base import utcnow
from db.engine import Database
from tests.factories import create_post, create_tag, create_user
from tests.helpers import graphql_data

Role = models.Role
POST_FIELDS = "id title slug status html markdown excerpt featured featureImage publishedAt updatedAt authors { slug } tags { slug } primaryTag { slug } revisions { title markdown author { slug } }"
CREATE = f"mutation($input: CreatePostInput!) {{ createPost(input: $input) {{ post {{ {POST_FIELDS} }} userErrors {{ field message code }} }} }}"
UPDATE = f"mutation($input: UpdatePostInput!) {{ updatePost(input: $input) {{ post {{ {POST_FIELDS} }} userErrors {{ field code }} }} }}"
PUBLISH = "mutation($input: PublishPostInput!) { publishPost(input: $input) { post { status publishedAt } userErrors { code } } }"
UNPUBLISH = "mutation($input: UnpublishPostInput!) { unpublishPost(input: $input) { post { status publishedAt } userErrors { code } } }"
RESTORE = "mutation($input: RestorePostRevisionInput!) { restorePostRevision(input: $input) { post { title markdown revisions { title } } userErrors { code } } }"
DELETE = "mutation($input: DeletePostInput!) { deletePost(input: $input) { deletedId userErrors { code } } }"
PREVIEW = "mutation($input: CreatePreviewTokenInput!) { createPreviewToken(input: $input) { token expiresAt userErrors { code } } }"


async def count(db: Database, model: type, *where: Any) -> int:
    async with db.read_sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.fixture
async def editor(as_staff: Any) -> tuple[models.User, dict[str, str]]:
    user: models.User
    headers: dict[str, str]
    user, headers = await as_staff(Role.EDITOR, "Eddie Editor")
    return user, headers


async def test_create_post_defaults_and_rendering(
    client: httpx.AsyncClient, db: Database, editor: Any
) -> None:
    _, headers = editor
    news = await create_tag(db, "News")
    await create_tag(db, "Tech")

    data = await graphql_data(
        client,
        CREATE,
        {
            "input": {
                "title": "Déjà Vu: a Study",
                "markdown": "Hi <script>x()</script> **there**",
                "tags": ["tech", news.slug],
            }
        },
        headers=headers,
    )

    created = data["createPost"]
    assert created["userErrors"] == []
    post = created["post"]
    assert post["slug"] == "deja-vu-a-study"
    assert post["status"] == "DRAFT"
    assert post["publishedAt"] is None
    assert post["html"] == "<p>Hi  <strong>there</strong></p>\n"
    assert post["authors"] == [{"slug": "eddie-editor"}]
    assert post["tags"] == [{"slug": "tech"}, {"slug": "news"}]
    assert post["primaryTag"] == {"slug": "tech"}
    assert post["revisions"] == [
        {
            "title": "Déjà Vu: a Study",
            "markdown": "Hi <script>x()</script> **there**",
            "author": {"slug": "eddie-editor"},
        }
    ]
    assert await count(db, models.Post) == 1


async def test_the_excerpt_is_kept_as_the_post_is_written(
    client: httpx.AsyncClient, db: Database, editor: Any
) -> None:
    """Worked out when written (both read paths read the stored value): the custom excerpt,
    else the body's start cut at a word, through every change that moves it."""
    _, headers = editor
    words = "word " * 100  # past the 300 characters of an automatic excerpt

    async def write(mutation: str, fields: dict[str, Any]) -> str | None:
        data = await graphql_data(client, mutation, {"input": fields}, headers=headers)
        [result] = data.values()
        assert result["userErrors"] == []
        async with db.read_sessions() as session:
            stored: str | None = await session.scalar(select(models.Post.excerpt))
        assert stored == result["post"]["excerpt"]
        return stored

    created = await graphql_data(
        client, CREATE, {"input": {"title": "Long", "markdown": words}}, headers=headers
    )
    post = created["createPost"]["post"]
    assert post["excerpt"] == ("word " * 60).strip() + "…"
    id = post["id"]
    assert await write(UPDATE, {"id": id, "customExcerpt": "By hand."}) == "By hand."
    assert await write(UPDATE, {"id": id, "markdown": "Short  *body*."}) == "By hand."
    assert await write(UPDATE, {"id": id, "customExcerpt": None}) == "Short body."
    assert await write(UPDATE, {"id": id, "markdown": ""}) is None


async def test_slugs_are_unique_per_type_and_editable(
    client: httpx.AsyncClient, db: Database, editor: Any
) -> None:
    _, headers = editor
    slugs = []
    for _ in range(3):
        data = await graphql_data(
            client, CREATE, {"input": {"title": "Same Title"}}, headers=headers
        )
        slugs.append(data["createPost"]["post"]["slug"])
    page = await graphql_data(
        client,
        'mutation { createPage(input: {title: "Same Title"}) { page { slug } } }',
        headers=headers,
    )

    assert slugs == ["same-title", "same-title-2", "same-title-3"]
    assert page["createPage"]["page"]["slug"] == "same-title"  # pages have their own namespace

    taken = await graphql_data(
        client, CREATE, {"input": {"title": "Other", "slug": "same-title"}}, headers=headers
    )
    assert taken["createPost"]["userErrors"] == [
        {"field": ["input", "slug"], "message": "This slug is taken.", "code": "TAKEN"}
    ]
    renamed = await graphql_data(
        client,
        UPDATE,
        {"input": {"id": slugs and (await _id(client, headers, "same-title-3")), "slug": "fresh"}},
        headers=headers,
    )
    assert renamed["updatePost"]["post"]["slug"] == "fresh"


async def _id(client: httpx.AsyncClient, headers: dict[str, str], slug: str) -> str:
    data = await graphql_data(
        client, "query($s: String!) { post(slug: $s) { id } }", {"s": slug}, headers=headers
    )
    return str(data["post"]["id"])


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"title": "   "}, [(["input", "title"], "REQUIRED")]),
        ({"title": "x" * 256}, [(["input", "title"], "TOO_LONG")]),
        ({"slug": "Not A Slug"}, [(["input", "slug"], "INVALID")]),
        ({"featureImage": "javascript:alert(1)"}, [(["input", "featureImage"], "INVALID")]),
        ({"canonicalUrl": "//evil.example/x"}, [(["input", "canonicalUrl"], "INVALID")]),
        ({"canonicalUrl": "http://[::1"}, [(["input", "canonicalUrl"], "INVALID")]),
        ({"ogImage": "https://example.com:99999/x.png"}, [(["input", "ogImage"], "INVALID")]),
        ({"customExcerpt": "e" * 301}, [(["input", "customExcerpt"], "TOO_LONG")]),
        ({"metaDescription": "m" * 501}, [(["input", "metaDescription"], "TOO_LONG")]),
        ({"tags": ["news", "missing"]}, [(["input", "tags", "1"], "NOT_FOUND")]),
        ({"authors": ["nobody"]}, [(["input", "authors", "0"], "NOT_FOUND")]),
        (
            {"title": "", "featureImage": "ftp://x", "tags": ["missing"]},
            [
                (["input", "title"], "REQUIRED"),
                (["input", "featureImage"], "INVALID"),
                (["input", "tags", "0"], "NOT_FOUND"),
            ],
        ),
    ],
)
async def test_invalid_input_is_reported_and_nothing_is_written(
    client: httpx.AsyncClient,
    db: Database,
    editor: Any,
    fields: dict[str, Any],
    expected: list[tuple[list[str], str]],
) -> None:
    _, headers = editor
    await create_tag(db, "News")

    data = await graphql_data(
        client, CREATE, {"input": {"title": "Fine", **fields}}, headers=headers
    )

    assert data["createPost"]["post"] is None
    assert [(e["field"], e["code"]) for e in data["createPost"]["userErrors"]] == expected
    assert await count(db, models.Post) == 0
    assert await count(db, models.PostTag) == 0
    assert await count(db, models.PostRevision) == 0


async def test_authors_and_tags_in_order_by_id_or_slug(
    client: httpx.AsyncClient, db: Database, editor: Any
) -> None:
    _, headers = editor
    await create_user(db, name="Ada")
    await create_user(db, name="Bob")
    await create_tag(db, "Zed")
    ids = await graphql_data(
        client,
        '{ users(filter: {email: {eq: "ada@example.com"}}) { nodes { author { id } } } }',
        headers=headers,
    )
    ada_id = ids["users"]["nodes"][0]["author"]["id"]
    tag_id = (await graphql_data(client, '{ tag(slug: "zed") { id } }'))["tag"]["id"]

    data = await graphql_data(
        client,
        CREATE,
        {"input": {"title": "Duo", "authors": ["bob", ada_id], "tags": [tag_id]}},
        headers=headers,
    )

    assert data["createPost"]["post"]["authors"] == [{"slug": "bob"}, {"slug": "ada"}]
    assert data["createPost"]["post"]["tags"] == [{"slug": "zed"}]


async def test_publish_now_schedule_and_unpublish(
    client: httpx.AsyncClient, db: Database, editor: Any
) -> None:
    _, headers = editor
    now_id = (await graphql_data(client, CREATE, {"input": {"title": "Now"}}, headers=headers))[
        "createPost"
    ]["post"]["id"]
    later_id = (await graphql_data(client, CREATE, {"input": {"title": "Later"}}, headers=headers))[
        "createPost"
    ]["post"]["id"]
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()

    published = await graphql_data(client, PUBLISH, {"input": {"id": now_id}}, headers=headers)
    scheduled = await graphql_data(
        client, PUBLISH, {"input": {"id": later_id, "publishedAt": future}}, headers=headers
    )

    assert published["publishPost"]["post"]["status"] == "PUBLISHED"
    assert scheduled["publishPost"]["post"]["status"] == "SCHEDULED"
    assert scheduled["publishPost"]["post"]["publishedAt"].startswith(future[:19])
    readers = await graphql_data(client, "{ posts { nodes { title status } } }")
    assert readers["posts"]["nodes"] == [{"title": "Now", "status": "PUBLISHED"}]

    # Time passes: no job runs, yet the scheduled post is public as soon as it is due.
    async with db.write_sessions.begin() as session:
        await session.execute(
            update(models.Post).where(models.Post.title == "Later").values(published_at=utcnow())
        )
    readers = await graphql_data(client, "{ posts { nodes { title status } } }")
    assert readers["posts"]["nodes"] == [
        {"title": "Later", "status": "PUBLISHED"},
        {"title": "Now", "status": "PUBLISHED"},
    ]

    back = await graphql_data(client, UNPUBLISH, {"input": {"id": now_id}}, headers=headers)
    assert back["unpublishPost"]["post"] == {"status": "DRAFT", "publishedAt": None}
    readers = await graphql_data(client, "{ posts { nodes { title } } }")
    assert readers["posts"]["nodes"] == [{"title": "Later"}]


async def test_stale_expected_updated_at_is_a_conflict(
    client: httpx.AsyncClient, db: Database, editor: Any
) -> None:
    _, headers = editor
    post = (await graphql_data(client, CREATE, {"input": {"title": "Base"}}, headers=headers))[
        "createPost"
    ]["post"]
    first = await graphql_data(
        client,
        UPDATE,
        {"input": {"id": post["id"], "title": "Mine", "expectedUpdatedAt": post["updatedAt"]}},
        headers=headers,
    )
    assert first["updatePost"]["userErrors"] == []

    second = await graphql_data(
        client,
        UPDATE,
        {"input": {"id": post["id"], "title": "Theirs", "expectedUpdatedAt": post["updatedAt"]}},
        headers=headers,
    )

    assert second["updatePost"] == {
        "post": None,
        "userErrors": [{"field": ["input", "expectedUpdatedAt"], "code": "CONFLICT"}],
    }
    async with db.read_sessions() as session:
        titles = list(await session.scalars(select(models.Post.title)))
    assert titles == ["Mine"]
    assert await count(db, models.PostRevision) == 2


async def test_twenty_concurrent_editors_lose_no_update(
    client: httpx.AsyncClient, db: Database, editor: Any
) -> None:
    _, headers = editor
    post = (await graphql_data(client, CREATE, {"input": {"title": "Shared"}}, headers=headers))[
        "createPost"
    ]["post"]

    responses = await asyncio.gather(
        *(
            graphql_data(
                client, UPDATE, {"input": {"id": post["id"], "title": f"Edit {n}"}}, headers=headers
            )
            for n in range(20)
        )
    )

    accepted = [r for r in responses if not r["updatePost"]["userErrors"]]
    assert len(accepted) == 20
    async with db.read_sessions() as session:
        revisions = list(
            await session.scalars(
                select(models.PostRevision.title).order_by(models.PostRevision.id)
            )
        )
        final = await session.scalar(select(models.Post.title))
    assert sorted(revisions[1:]) == sorted(
        f"Edit {n}" for n in range(20)
    )  # every write is accounted for
    assert final == revisions[-1]  # and the last one committed is what the post says

    loaded = await _updated_at(client, headers, post["id"])
    racing = await asyncio.gather(
        *(
            graphql_data(
                client,
                UPDATE,
                {"input": {"id": post["id"], "title": f"Race {n}", "expectedUpdatedAt": loaded}},
                headers=headers,
            )
            for n in range(20)
        )
    )
    winners = [r for r in racing if not r["updatePost"]["userErrors"]]
    assert len(winners) == 1
    assert all(
        r["updatePost"]["userErrors"][0]["code"] == "CONFLICT" for r in racing if r not in winners
    )


async def _updated_at(client: httpx.AsyncClient, headers: dict[str, str], id: str) -> str:
    data = await graphql_data(
        client,
        "query($id: ID!) { node(id: $id) { ... on Post { updatedAt } } }",
        {"id": id},
        headers=headers,
    )
    return str(data["node"]["updatedAt"])


async def test_revisions_and_restore(client: httpx.AsyncClient, db: Database, editor: Any) -> None:
    _, headers = editor
    post = (
        await graphql_data(
            client, CREATE, {"input": {"title": "V1", "markdown": "one"}}, headers=headers
        )
    )["createPost"]["post"]
    await graphql_data(
        client,
        UPDATE,
        {"input": {"id": post["id"], "title": "V2", "markdown": "two"}},
        headers=headers,
    )
    unchanged = await graphql_data(
        client, UPDATE, {"input": {"id": post["id"], "featured": True}}, headers=headers
    )
    assert [r["title"] for r in unchanged["updatePost"]["post"]["revisions"]] == [
        "V2",
        "V1",
    ]  # no revision without a text change

    revision_id = await _revision_id(db, "V1")
    restored = await graphql_data(
        client, RESTORE, {"input": {"revisionId": revision_id}}, headers=headers
    )

    assert restored["restorePostRevision"]["post"]["title"] == "V1"
    assert restored["restorePostRevision"]["post"]["markdown"] == "one"
    assert [r["title"] for r in restored["restorePostRevision"]["post"]["revisions"]] == [
        "V1",
        "V2",
        "V1",
    ]


async def _revision_id(db: Database, title: str) -> str:
    from graphql_schema.ids import to_global_id

    async with db.read_sessions() as session:
        id = await session.scalar(
            select(models.PostRevision.id).where(models.PostRevision.title == title)
        )
    return to_global_id("Revision", int(id or 0))


async def test_preview_tokens_show_one_draft_to_anyone(
    client: httpx.AsyncClient, db: Database, editor: Any
) -> None:
    _, headers = editor
    post = (
        await graphql_data(
            client,
            CREATE,
            {"input": {"title": "Secret", "markdown": "draft body"}},
            headers=headers,
        )
    )["createPost"]["post"]
    other = (await graphql_data(client, CREATE, {"input": {"title": "Other"}}, headers=headers))[
        "createPost"
    ]["post"]

    made = (await graphql_data(client, PREVIEW, {"input": {"id": post["id"]}}, headers=headers))[
        "createPreviewToken"
    ]
    token = made["token"]
    expires = datetime.fromisoformat(made["expiresAt"])
    assert timedelta(hours=23) < expires - datetime.now(UTC) <= timedelta(hours=24)

    query = "query($t: String!) { post(previewToken: $t) { title status html } page(previewToken: $t) { title } }"
    seen = await graphql_data(client, query, {"t": token})  # anonymous
    assert seen["post"] == {"title": "Secret", "status": "DRAFT", "html": "<p>draft body</p>\n"}
    assert seen["page"] is None  # a post's token is not a page's

    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    expired = jwt.encode(
        {
            "sub": "Post:1",
            "iss": "broadsheet",
            "aud": "broadsheet-preview",
            "iat": datetime.now(UTC) - timedelta(days=2),
            "exp": datetime.now(UTC) - timedelta(days=1),
        },
        "x" * 48,
        algorithm="HS256",
    )
    for bad in (tampered, expired, "nonsense"):
        assert (await graphql_data(client, query, {"t": bad}))["post"] is None
    assert other["id"] != post["id"]


SETTINGS = "mutation($input: UpdateSettingsInput!) { updateSettings(input: $input) { settings { title url accentColor locale timezone navigation { label url } secondaryNavigation { label } updatedAt } userErrors { field code } } }"


async def test_update_settings(client: httpx.AsyncClient, as_staff: Any) -> None:
    _, headers = await as_staff(Role.ADMINISTRATOR)
    data = await graphql_data(
        client,
        SETTINGS,
        {
            "input": {
                "title": "Gazette",
                "url": "https://news.example",
                "accentColor": "#FF1A75",
                "locale": "pt-BR",
                "timezone": "Europe/Lisbon",
                "navigation": [
                    {"label": "Home", "url": "/"},
                    {"label": "Shop", "url": "https://shop.example"},
                ],
                "secondaryNavigation": [],
            }
        },
        headers=headers,
    )
    settings = data["updateSettings"]["settings"]
    assert data["updateSettings"]["userErrors"] == []
    assert settings["accentColor"] == "#ff1a75"
    assert settings["navigation"] == [
        {"label": "Home", "url": "/"},
        {"label": "Shop", "url": "https://shop.example"},
    ]
    public = await graphql_data(client, "{ settings { title locale timezone } }")
    assert public["settings"] == {
        "title": "Gazette",
        "locale": "pt-BR",
        "timezone": "Europe/Lisbon",
    }

    bad = await graphql_data(
        client,
        SETTINGS,
        {
            "input": {
                "title": "Changed",
                "accentColor": "red",
                "locale": "not a locale",
                "timezone": "Mars/Olympus",
                "url": "/relative",
                "navigation": [{"label": "", "url": "javascript:x"}],
            }
        },
        headers=headers,
    )
    assert [(e["field"], e["code"]) for e in bad["updateSettings"]["userErrors"]] == [
        (["input", "url"], "INVALID"),
        (["input", "accentColor"], "INVALID"),
        (["input", "locale"], "INVALID"),
        (["input", "timezone"], "INVALID"),
        (["input", "navigation", "0", "label"], "REQUIRED"),
        (["input", "navigation", "0", "url"], "INVALID"),
    ]
    assert (await graphql_data(client, "{ settings { title } }"))["settings"]["title"] == "Gazette"

    stale = await graphql_data(
        client,
        SETTINGS,
        {"input": {"title": "X", "expectedUpdatedAt": "2000-01-01T00:00:00+00:00"}},
        headers=headers,
    )
    assert stale["updateSettings"]["userErrors"] == [
        {"field": ["input", "expectedUpdatedAt"], "code": "CONFLICT"}
    ]
    fresh = await graphql_data(
        client,
        SETTINGS,
        {"input": {"title": "Y", "expectedUpdatedAt": settings["updatedAt"]}},
        headers=headers,
    )
    assert fresh["updateSettings"]["settings"]["title"] == "Y"


async def test_delete_post_takes_links_and_revisions(
    client: httpx.AsyncClient, db: Database, editor: Any
) -> None:
    _, headers = editor
    await create_tag(db, "News")
    post = (
        await graphql_data(
            client, CREATE, {"input": {"title": "Doomed", "tags": ["news"]}}, headers=headers
        )
    )["createPost"]["post"]

    data = await graphql_data(client, DELETE, {"input": {"id": post["id"]}}, headers=headers)

    assert data["deletePost"] == {"deletedId": post["id"], "userErrors": []}
    assert await count(db, models.Post) == 0
    assert await count(db, models.PostTag) == 0
    assert await count(db, models.PostAuthor) == 0
    assert await count(db, models.PostRevision) == 0
    again = await graphql_data(client, DELETE, {"input": {"id": post["id"]}}, headers=headers)
    assert again["deletePost"] == {"deletedId": None, "userErrors": [{"code": "NOT_FOUND"}]}


async def test_tags_create_update_delete(
    client: httpx.AsyncClient, db: Database, editor: Any
) -> None:
    _, headers = editor
    writer = await create_user(db)
    made = await graphql_data(
        client,
        'mutation { createTag(input: {name: "#Newsletter"}) { tag { id slug visibility updatedAt } userErrors { code } } }',
        headers=headers,
    )
    tag = made["createTag"]["tag"]
    assert tag["slug"] == "hash-newsletter"
    assert tag["visibility"] == "INTERNAL"
    dup = await graphql_data(
        client,
        'mutation { createTag(input: {name: "Other", slug: "hash-newsletter"}) { userErrors { field code } } }',
        headers=headers,
    )
    assert dup["createTag"]["userErrors"] == [{"field": ["input", "slug"], "code": "TAKEN"}]

    renamed = await graphql_data(
        client,
        "mutation($input: UpdateTagInput!) { updateTag(input: $input) { tag { name visibility } userErrors { code } } }",
        {"input": {"id": tag["id"], "name": "Newsletter", "expectedUpdatedAt": tag["updatedAt"]}},
        headers=headers,
    )
    assert renamed["updateTag"]["tag"] == {"name": "Newsletter", "visibility": "PUBLIC"}

    async with db.read_sessions() as session:
        tag_row = (await session.execute(select(models.Tag))).scalar_one()
    await create_post(db, "Tagged", authors=[writer], tags=[tag_row])
    deleted = await graphql_data(
        client,
        "mutation($input: DeleteTagInput!) { deleteTag(input: $input) { deletedId } }",
        {"input": {"id": tag["id"]}},
        headers=headers,
    )
    assert deleted["deleteTag"]["deletedId"] == tag["id"]
    assert await count(db, models.Post) == 1
    assert await count(db, models.PostTag) == 0
