"""Content events through the mutations that cause them: the right events, written in the
mutation's own transaction with one statement, none when it fails, and payloads (finished by
the dispatcher) that say what a frontend needs to rebuild."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import orjson
from sqlalchemy import func, select

from db import models, outbox
from db.base import utcnow
from db.engine import Database
from graphql_schema.ids import to_global_id
from service.runner import Runner
from tests.conftest import StatementCounter
from tests.factories import create_post, create_tag
from tests.helpers import graphql, graphql_data

Role = models.Role

CREATE = """mutation($input: CreatePostInput!) {
  createPost(input: $input) { post { id } userErrors { code field } } }"""
UPDATE = """mutation($input: UpdatePostInput!) {
  updatePost(input: $input) { post { id } userErrors { code field } } }"""
PUBLISH = """mutation($input: PublishPostInput!) {
  publishPost(input: $input) { post { id status } userErrors { code message } } }"""
UNPUBLISH = """mutation($id: ID!) {
  unpublishPost(input: {id: $id}) { post { id } userErrors { code } } }"""
DELETE = """mutation($id: ID!) { deletePost(input: {id: $id}) { deletedId userErrors { code } } }"""
PUBLISH_PAGE = """mutation($id: ID!) {
  publishPage(input: {id: $id}) { page { id } userErrors { code } } }"""
CREATE_TAG = """mutation($name: String!) {
  createTag(input: {name: $name}) { tag { id } userErrors { code } } }"""
UPDATE_TAG = """mutation($id: ID!, $name: String) {
  updateTag(input: {id: $id, name: $name}) { tag { id } userErrors { code } } }"""
DELETE_TAG = (
    """mutation($id: ID!) { deleteTag(input: {id: $id}) { deletedId userErrors { code } } }"""
)
UPDATE_SETTINGS = """mutation($title: String) {
  updateSettings(input: {title: $title}) { settings { title } userErrors { code } } }"""
UPDATE_USER = """mutation($input: UpdateUserInput!) {
  updateUser(input: $input) { user { id } userErrors { code } } }"""


async def stored_events(db: Database) -> list[models.Event]:
    async with db.read_sessions() as session:
        return list(await session.scalars(select(models.Event).order_by(models.Event.id)))


async def types_of(db: Database) -> list[str]:
    return [event.type for event in await stored_events(db)]


async def finished_payloads(db: Database, settings: Any) -> list[dict[str, Any]]:
    """Run the dispatcher's fan-out (the real one) and return each event's finished body."""
    runner = Runner(db, settings)
    try:
        while await runner.dispatcher.fan_out():
            pass
    finally:
        await runner.dispatcher.close()
    # fan_out has written every event's body.
    return [orjson.loads(cast(str, event.body)) for event in await stored_events(db)]


async def test_a_post_announces_publishing_edits_unpublishing_and_deletion(
    client: Any, db: Database, as_staff: Any, settings: Any
) -> None:
    editor, headers = await as_staff(Role.EDITOR)
    tag = await create_tag(db, "News")
    created = await graphql_data(
        client, CREATE, {"input": {"title": "Hello", "tags": ["news"]}}, headers=headers
    )
    id = created["createPost"]["post"]["id"]
    assert await types_of(db) == []  # a new draft is nobody's business yet

    await graphql_data(client, UPDATE, {"input": {"id": id, "markdown": "draft"}}, headers=headers)
    assert await types_of(db) == ["post.updated"]  # a draft edit: no site.changed

    await graphql_data(client, PUBLISH, {"input": {"id": id}}, headers=headers)
    await graphql_data(client, UPDATE, {"input": {"id": id, "title": "Hi"}}, headers=headers)
    await graphql_data(client, UPDATE, {"input": {"id": id, "title": "Hi"}}, headers=headers)
    await graphql_data(client, UNPUBLISH, {"id": id}, headers=headers)
    await graphql_data(client, DELETE, {"id": id}, headers=headers)
    assert await types_of(db) == [
        "post.updated",
        "post.published",
        "site.changed",
        "post.updated",  # the second, identical update changed nothing: no event
        "site.changed",
        "post.unpublished",
        "site.changed",
        "post.deleted",  # a draft's deletion: readers saw nothing
    ]
    payloads = await finished_payloads(db, settings)
    published = payloads[1]
    assert published["type"] == "post.published"
    post = published["data"]["post"]
    assert post["id"] == id
    assert post["slug"] == "hello"
    assert post["status"] == "PUBLISHED"
    assert post["url"] == "http://localhost:8000/hello/"
    # Tags and authors are the post's links when dispatched; the deleted one named its own.
    assert payloads[-1]["data"]["post"]["tags"] == [
        {"id": to_global_id("Tag", tag.id), "slug": "news"}
    ]
    assert payloads[-1]["data"]["post"]["authors"][0]["id"] == to_global_id("Author", editor.id)
    assert payloads[3]["data"]["changed"] == ["title"]
    # Cache tags: what readers could have cached (global ids), and nothing for a draft.
    tag_id, author_id = to_global_id("Tag", tag.id), to_global_id("Author", editor.id)
    assert payloads[0]["data"]["cacheTags"] == []  # the draft edit
    assert published["data"]["cacheTags"] == [
        f"post:{id}",
        "list:posts",
        f"tag:{tag_id}",
        f"author:{author_id}",
        "list:tags",  # its tag's and author's post counts changed
        "list:authors",
    ]
    assert payloads[3]["data"]["cacheTags"] == [
        f"post:{id}",
        "list:posts",
        f"tag:{tag_id}",
        f"author:{author_id}",
    ]
    assert payloads[5]["data"]["cacheTags"][-2:] == ["list:tags", "list:authors"]  # unpublished
    assert payloads[-1]["data"]["cacheTags"] == []  # a draft deleted: nothing was cached
    assert "cacheTags" not in site_changed_payload(payloads)
    site_changed = payloads[2]
    assert site_changed["type"] == "site.changed"
    assert [cause["type"] for cause in site_changed["data"]["causes"]] == ["post.published"]
    for payload in payloads:
        assert set(payload) == {"type", "timestamp", "data"}


def site_changed_payload(payloads: list[dict[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = next(p for p in payloads if p["type"] == "site.changed")["data"]
    return data


async def test_scheduling_is_announced_without_site_changed(
    client: Any, db: Database, as_staff: Any
) -> None:
    _, headers = await as_staff(Role.EDITOR)
    created = await graphql_data(client, CREATE, {"input": {"title": "Later"}}, headers=headers)
    id = created["createPost"]["post"]["id"]
    when = (utcnow() + timedelta(days=1)).isoformat()
    await graphql_data(client, PUBLISH, {"input": {"id": id, "publishedAt": when}}, headers=headers)
    assert await types_of(db) == ["post.scheduled"]
    await graphql_data(client, UNPUBLISH, {"id": id}, headers=headers)
    assert await types_of(db) == ["post.scheduled", "post.unpublished"]  # called off


async def test_pages_tags_settings_and_authors_have_their_events(
    client: Any, db: Database, as_staff: Any, settings: Any
) -> None:
    owner, headers = await as_staff(Role.OWNER)
    page = await create_post(
        db, "About", authors=[owner], type=models.PostType.PAGE, status=models.PostStatus.DRAFT
    )
    await graphql_data(client, PUBLISH_PAGE, {"id": to_global_id("Page", page.id)}, headers=headers)
    tag = (await graphql_data(client, CREATE_TAG, {"name": "Culture"}, headers=headers))[
        "createTag"
    ]["tag"]
    await graphql_data(client, UPDATE_TAG, {"id": tag["id"], "name": "Arts"}, headers=headers)
    internal = (await graphql_data(client, CREATE_TAG, {"name": "#hidden"}, headers=headers))[
        "createTag"
    ]["tag"]
    await graphql_data(client, UPDATE_TAG, {"id": internal["id"], "name": "#x"}, headers=headers)
    await graphql_data(client, DELETE_TAG, {"id": tag["id"]}, headers=headers)
    await graphql_data(client, UPDATE_SETTINGS, {"title": "The Daily"}, headers=headers)
    await graphql_data(
        client,
        UPDATE_USER,
        {"input": {"id": to_global_id("StaffUser", owner.id), "bio": "Writes."}},
        headers=headers,
    )
    assert await types_of(db) == [
        "page.published",
        "site.changed",
        "tag.created",
        "site.changed",
        "tag.updated",
        "site.changed",
        "tag.created",
        "tag.updated",  # an internal tag: readers never see it, so no site.changed
        "tag.deleted",
        "site.changed",
        "settings.updated",
        "site.changed",
        "author.updated",
        "site.changed",
    ]
    payloads = await finished_payloads(db, settings)
    assert payloads[0]["data"]["page"]["url"] == "http://localhost:8000/about/"
    assert payloads[4]["data"]["tag"]["slug"] == "culture"  # the slug stays with a rename
    assert payloads[4]["data"]["changed"] == ["name"]
    assert payloads[10]["data"]["changed"] == ["title"]
    assert payloads[10]["data"]["settings"]["title"] == "The Daily"
    assert payloads[12]["data"]["author"]["id"] == to_global_id("Author", owner.id)
    assert payloads[12]["data"]["changed"] == ["bio"]
    tag_id = tag["id"]
    assert [p["data"].get("cacheTags") for p in payloads] == [
        [
            f"page:{to_global_id('Page', page.id)}",
            "list:pages",
            f"author:{to_global_id('Author', owner.id)}",
            "list:tags",
            "list:authors",
        ],
        None,  # site.changed
        ["list:tags"],  # a new public tag is listed at once
        None,
        [f"tag:{tag_id}", "list:tags"],
        None,
        [],
        [],  # an internal tag: readers never saw it
        [f"tag:{tag_id}", "list:tags"],
        None,
        ["settings"],
        None,
        [f"author:{to_global_id('Author', owner.id)}", "list:authors"],
        None,
    ]


async def test_editing_a_due_schedule_announces_it_once(
    client: Any, db: Database, as_staff: Any, settings: Any
) -> None:
    owner, headers = await as_staff(Role.EDITOR)
    # Its time has come, and the runner has not got to it yet.
    post = await create_post(
        db,
        "Due",
        authors=[owner],
        status=models.PostStatus.SCHEDULED,
        published_at=utcnow() - timedelta(seconds=1),
    )
    id = to_global_id("Post", post.id)
    await graphql_data(client, UPDATE, {"input": {"id": id, "title": "Due now"}}, headers=headers)
    assert await types_of(db) == ["post.published", "site.changed"]
    runner = Runner(db, settings)
    assert await runner.publish_due() == 0  # already announced: not a second time
    await runner.dispatcher.close()
    async with db.read_sessions() as session:
        stored = await session.get(models.Post, post.id)
    assert stored is not None
    assert stored.status is models.PostStatus.PUBLISHED


async def test_deleting_a_staff_member_changes_the_site(
    client: Any, db: Database, as_staff: Any
) -> None:
    owner, headers = await as_staff(Role.OWNER)
    author, _ = await as_staff(Role.AUTHOR)
    await create_post(db, "Theirs", authors=[author])
    deleted = await graphql_data(
        client,
        "mutation($id: ID!) { deleteUser(input: {id: $id}) { deletedId userErrors { code } } }",
        {"id": to_global_id("StaffUser", author.id)},
        headers=headers,
    )
    assert deleted["deleteUser"]["userErrors"] == []
    [event] = await stored_events(db)
    assert event.type == "site.changed"
    assert event.data["causes"] == [{"type": "author.deleted", "subject": f"author:{author.id}"}]
    assert event.data["postsTo"] == {"id": to_global_id("Author", owner.id)}


async def test_fan_out_to_many_webhooks_fits_in_statements(db: Database, settings: Any) -> None:
    """500 events for 70 webhooks: more parameters than PostgreSQL takes in one statement."""
    async with db.write_sessions.begin() as session:
        for n in range(70):
            session.add(
                models.Webhook(
                    url=f"https://93.184.215.14/{n}", events=["post.updated"], secret="whsec_eA=="
                )
            )
        for n in range(500):
            outbox.record(session, outbox.PendingEvent("post.updated", f"post:{n}", {"n": n}))
    runner = Runner(db, settings)
    try:
        assert await runner.dispatcher.fan_out() == 500
    finally:
        await runner.dispatcher.close()
    async with db.read_sessions() as session:
        count = await session.scalar(select(func.count()).select_from(models.WebhookDelivery))
    assert count == 35_000


async def test_a_refused_mutation_writes_no_event(client: Any, db: Database, as_staff: Any) -> None:
    owner, headers = await as_staff(Role.EDITOR)
    post = await create_post(db, "Live", authors=[owner])
    id = to_global_id("Post", post.id)
    body = await graphql_data(
        client, UPDATE, {"input": {"id": id, "title": "New", "slug": "Not A Slug"}}, headers=headers
    )
    assert body["updatePost"]["userErrors"][0]["field"] == ["input", "slug"]
    # A contributor may not touch it: FORBIDDEN, also nothing written.
    _, contributor = await as_staff(Role.CONTRIBUTOR)
    refused = await graphql(client, PUBLISH, {"input": {"id": id}}, headers=contributor)
    assert refused["errors"]
    assert await types_of(db) == []


async def test_the_outbox_costs_a_mutation_one_statement(
    client: Any, db: Database, as_staff: Any, sql: StatementCounter
) -> None:
    owner, headers = await as_staff(Role.EDITOR)
    posts = [await create_post(db, f"Post {n}", authors=[owner]) for n in range(2)]
    variables = [{"input": {"id": to_global_id("Post", p.id), "title": "T"}} for p in posts]
    sql.reset()
    await graphql_data(client, UPDATE, variables[0], headers=headers)
    statements = list(sql.statements)
    touching = [s for s in statements if "events" in s.lower()]
    assert len(touching) == 1
    assert touching[0].lstrip().upper().startswith("INSERT INTO EVENTS")
    # Two events (post.updated, site.changed) travel in that one INSERT.
    assert await types_of(db) == ["post.updated", "site.changed"]


async def test_a_payload_stays_small_however_many_tags(
    client: Any, db: Database, as_staff: Any, settings: Any
) -> None:
    owner, headers = await as_staff(Role.EDITOR)
    tags = [await create_tag(db, f"{'t' * 180}{n}") for n in range(80)]
    post = await create_post(
        db, "Tagged", authors=[owner], tags=tags, status=models.PostStatus.DRAFT
    )
    await graphql_data(
        client, PUBLISH, {"input": {"id": to_global_id("Post", post.id)}}, headers=headers
    )
    payload = (await finished_payloads(db, settings))[0]
    assert len(orjson.dumps(payload)) < 20_000
    assert len(payload["data"]["post"]["tags"]) == 50
