"""Cache tags on public answers (Surrogate-Key, Cache-Tag), on both databases and both read
paths: what each answer names, and the contract with the events: a CDN that purges by the
tags the events carry never serves an answer that changed."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select

from db import models
from db.engine import Database
from graphql_schema.http_caching import CachePolicy
from graphql_schema.ids import to_global_id
from service.runner import Runner
from service.settings import Settings
from tests.factories import create_post, create_tag, create_user
from tests.helpers import graphql_data

Role = models.Role


@pytest.fixture
async def site(db: Database) -> dict[str, Any]:
    writer = await create_user(db, name="Writer")
    news = await create_tag(db, "News")
    arts = await create_tag(db, "Arts")
    first = await create_post(db, "First", authors=[writer], tags=[news])
    second = await create_post(db, "Second", authors=[writer], tags=[news, arts])
    draft = await create_post(
        db, "Coming", authors=[writer], status=models.PostStatus.DRAFT, tags=[arts]
    )
    return {
        "writer": writer,
        "news": news,
        "arts": arts,
        "first": first,
        "second": second,
        "draft": draft,
    }


async def tags_of(client: httpx.AsyncClient, query: str, **variables: Any) -> list[str]:
    params = {"query": query}
    if variables:
        params["variables"] = orjson.dumps(variables).decode()
    response = await client.get("/graphql", params=params)
    assert response.status_code == 200, response.text
    assert "errors" not in response.json()
    keys = response.headers["surrogate-key"].split(" ")
    assert response.headers["cache-tag"] == ",".join(keys)
    return keys


def gid(type_name: str, row: Any) -> str:
    return to_global_id(type_name, row.id)


async def test_each_answer_names_what_it_shows(
    client: httpx.AsyncClient, site: dict[str, Any]
) -> None:
    first, news, writer = site["first"], site["news"], site["writer"]
    assert await tags_of(client, "{ posts(first: 5) { nodes { title } } }") == [
        "list:posts",
        "site",
    ]
    home = "{ posts(first: 5) { nodes { title url tags { name } authors { name } } } }"
    assert await tags_of(client, home) == [
        "list:authors", "list:posts", "list:tags", "settings", "site"
    ]  # fmt: skip
    # Counts, page info and cursors depend on the list as much as its items do.
    assert await tags_of(client, "{ posts { totalCount } }") == ["list:posts", "site"]
    assert await tags_of(client, "{ authors { pageInfo { endCursor } } }") == [
        "list:authors",
        "site",
    ]
    # Filtered by tag or author: their slugs and visibility decide which posts are in it.
    filtered = '{ posts(filter: {tag: {eq: "news"}}) { nodes { title } } }'
    assert await tags_of(client, filtered) == ["list:authors", "list:posts", "list:tags", "site"]
    one = "query($slug: String!) { post(slug: $slug) { title } }"
    assert await tags_of(client, one, slug="first") == [f"post:{gid('Post', first)}", "site"]
    # Nothing found yet: publishing a post with that slug purges its list.
    assert await tags_of(client, one, slug="coming") == ["list:posts", "site"]
    archive = '{ tag(slug: "news") { name postCount posts { nodes { title } } } }'
    assert await tags_of(client, archive) == ["list:posts", "site", f"tag:{gid('Tag', news)}"]
    profile = f'{{ author(slug: "{writer.slug}") {{ name }} }}'
    assert await tags_of(client, profile) == [
        f"author:{gid('Author', writer)}", "list:authors", "site"
    ]  # fmt: skip
    assert await tags_of(client, "{ settings { title } }") == ["settings", "site"]
    node = "query($id: ID!) { node(id: $id) { ... on Post { title } } }"
    assert await tags_of(client, node, id=gid("Post", first)) == [
        f"post:{gid('Post', first)}",
        "site",
    ]
    draft_id = gid("Post", site["draft"])
    assert await tags_of(client, node, id=draft_id) == [f"post:{draft_id}", "site"]
    both = '{ a: post(slug: "first") { title } b: post(slug: "second") { title } }'
    assert await tags_of(client, both) == sorted(
        [f"post:{gid('Post', first)}", f"post:{gid('Post', site['second'])}", "site"]
    )


async def test_answers_no_shared_cache_keeps_name_nothing(
    client: httpx.AsyncClient, site: dict[str, Any], as_staff: Any
) -> None:
    query = "{ posts { nodes { title } } }"
    posted = await client.post("/graphql", json={"query": query})
    assert "surrogate-key" not in posted.headers
    _, staff = await as_staff(Role.EDITOR)
    signed_in = await client.get("/graphql", params={"query": query}, headers=staff)
    assert signed_in.headers["cache-control"] == "private, no-store"
    assert "surrogate-key" not in signed_in.headers
    # A preview of a draft: no event purges it (no reader saw it), so nobody may keep it.
    token = (
        await graphql_data(
            client,
            "mutation($id: ID!) { createPreviewToken(input: {id: $id}) { token } }",
            {"id": gid("Post", site["draft"])},
            headers=staff,
        )
    )["createPreviewToken"]["token"]
    preview = await client.get(
        "/graphql",
        params={
            "query": "query($t: String!) { post(previewToken: $t) { title } }",
            "variables": orjson.dumps({"t": token}).decode(),
        },
    )
    assert preview.json()["data"]["post"]["title"] == "Coming"
    assert preview.headers["cache-control"] == "no-store"
    assert "surrogate-key" not in preview.headers
    assert "etag" not in preview.headers


@pytest.mark.parametrize(
    "settings",
    [{"http_cache_surrogate_key_header": "X-GraphQL-Keys", "http_cache_tag_header": ""}],
    indirect=True,
)
async def test_the_header_names_are_settings(
    client: httpx.AsyncClient, site: dict[str, Any]
) -> None:
    response = await client.get("/graphql", params={"query": "{ settings { title } }"})
    assert response.headers["x-graphql-keys"] == "settings site"
    assert "cache-tag" not in response.headers
    assert "surrogate-key" not in response.headers


def test_past_the_cdns_limit_objects_give_way_to_their_lists() -> None:
    many = [f"post:{to_global_id('Post', n)}" for n in range(2000)]
    headers = dict(CachePolicy().tag_headers(sorted([*many, "list:tags", "settings", "site"])))
    assert headers["Surrogate-Key"] == "list:posts list:tags settings site"
    assert headers["Cache-Tag"] == "list:posts,list:tags,settings,site"
    few = ["post:UG9zdDox", "settings"]
    assert dict(CachePolicy().tag_headers(few))["Surrogate-Key"] == "post:UG9zdDox settings"


# --- the contract with the events ------------------------------------------------------------

READS = {
    "home": "{ posts(first: 10) { nodes { title url tags { name } authors { name } } } }",
    "first": '{ post(slug: "first") { title excerpt tags { name } authors { name bio } } }',
    "coming": '{ post(slug: "coming") { title } }',
    "news": '{ tag(slug: "news") { name postCount posts { nodes { title } } } }',
    "arts": '{ tag(slug: "arts") { name postCount } }',
    "news count": '{ tag(slug: "news") { postCount } }',
    "culture": '{ tag(slug: "culture") { name } }',
    "tags": "{ tags { nodes { name postCount } } }",
    "authors": "{ authors { nodes { name bio } } }",
    "writer": '{ author(slug: "writer") { name bio } }',
    "guest": '{ author(slug: "guest") { name } }',
    "settings": "{ settings { title url } }",
    "count": "{ posts { totalCount } }",
    "end": "{ posts(first: 1) { pageInfo { endCursor } } }",
    "news posts": '{ tag(slug: "news") { posts { totalCount } } }',
    "filtered": '{ posts(filter: {tag: {eq: "news"}}) { nodes { title } } }',
    "by writer": '{ posts(filter: {author: {eq: "writer"}}) { nodes { title } } }',
    "guest posts": '{ post(slug: "second") { authors { name } } }',
}


class Cdn:
    """A shared cache in front of the API: it keeps each answer with its tags and drops
    what the events say to purge."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.kept: dict[str, tuple[bytes, set[str]]] = {}

    async def fetch(self, name: str) -> bytes:
        response = await self.client.get("/graphql", params={"query": READS[name]})
        assert response.status_code == 200, response.text
        assert "errors" not in response.json(), response.text
        self.kept[name] = (response.content, set(response.headers["surrogate-key"].split()))
        return response.content

    def purge(self, tags: set[str]) -> None:
        self.kept = {name: kept for name, kept in self.kept.items() if not kept[1] & tags}


async def purged_by_new_events(db: Database, settings: Settings, seen: set[int]) -> set[str]:
    """The cacheTags of the events written since `seen`, as the dispatcher finishes them."""
    runner = Runner(db, settings)
    try:
        while await runner.dispatcher.fan_out():
            pass
    finally:
        await runner.dispatcher.close()
    async with db.read_sessions() as session:
        stored = list(await session.scalars(select(models.Event).order_by(models.Event.id)))
    tags: set[str] = set()
    for event in stored:
        if event.id not in seen:
            seen.add(event.id)
            tags.update(orjson.loads(event.body or "{}")["data"].get("cacheTags", []))
    return tags


async def test_a_cdn_purging_by_event_tags_never_serves_a_changed_answer(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    site: dict[str, Any],
    as_staff: Any,
) -> None:
    owner, staff = await as_staff(Role.OWNER)
    guest = await create_user(db, name="Guest")
    first, second = gid("Post", site["first"]), gid("Post", site["second"])
    draft = gid("Post", site["draft"])

    async def run(document: str, variables: dict[str, Any]) -> None:
        data = await graphql_data(client, document, variables, headers=staff)
        payload = next(iter(data.values()))
        assert not payload.get("userErrors"), payload

    update = (
        "mutation($input: UpdatePostInput!) { updatePost(input: $input) { userErrors { code } } }"
    )
    changes: list[tuple[str, dict[str, Any]]] = [
        (update, {"input": {"id": first, "title": "First, again"}}),
        (update, {"input": {"id": first, "tags": ["arts"]}}),  # leaves News, joins Arts
        (update, {"input": {"id": second, "authors": [gid("Author", guest), "writer"]}}),
        # The guest goes; the posts credited to them pass to the owner.
        (
            "mutation($id: ID!) { deleteUser(input: {id: $id}) { userErrors { code } } }",
            {"id": to_global_id("StaffUser", guest.id)},
        ),
        (
            "mutation($id: ID!) { publishPost(input: {id: $id}) { userErrors { code } } }",
            {"id": draft},
        ),
        ('mutation { createTag(input: {name: "Culture"}) { userErrors { code } } }', {}),
        (
            'mutation($id: ID!) { updateTag(input: {id: $id, name: "Latest"}) '
            "{ userErrors { code } } }",
            {"id": gid("Tag", site["news"])},
        ),
        (
            "mutation($input: UpdateUserInput!) { updateUser(input: $input) "
            "{ userErrors { code } } }",
            {"input": {"id": to_global_id("StaffUser", site["writer"].id), "bio": "Writes."}},
        ),
        (
            'mutation { updateSettings(input: {url: "https://news.example"}) '
            "{ userErrors { code } } }",
            {},
        ),
        (
            "mutation($id: ID!) { unpublishPost(input: {id: $id}) { userErrors { code } } }",
            {"id": second},
        ),
        (
            "mutation($id: ID!) { deletePost(input: {id: $id}) { userErrors { code } } }",
            {"id": first},
        ),
        (
            'mutation($id: ID!) { updateTag(input: {id: $id, slug: "latest"}) '
            "{ userErrors { code } } }",
            {"id": gid("Tag", site["news"])},
        ),
    ]
    cdn = Cdn(client)
    for name in READS:
        await cdn.fetch(name)
    seen: set[int] = set()
    await purged_by_new_events(db, settings, seen)  # the site's set-up
    for document, variables in changes:
        await run(document, variables)
        cdn.purge(await purged_by_new_events(db, settings, seen))
        for name, (body, _) in list(cdn.kept.items()):
            assert await cdn.fetch(name) == body, f"{name} changed, not purged: {document}"
        for name in READS.keys() - cdn.kept.keys():
            await cdn.fetch(name)
    assert owner.role is Role.OWNER
