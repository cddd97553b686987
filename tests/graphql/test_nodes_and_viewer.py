"""Global object identification, settings, and what anonymous callers get for staff data."""

from __future__ import annotations

import httpx

from db import models
from db.engine import Database
from tests.factories import create_post, create_tag, create_user
from tests.helpers import error_codes, graphql, graphql_data

NODE = """query($id: ID!) { node(id: $id) { __typename id
  ... on Post { title } ... on Page { title } ... on Tag { name } ... on Author { name } } }"""


async def test_every_entity_round_trips_through_node(
    client: httpx.AsyncClient, db: Database
) -> None:
    ada = await create_user(db, name="Ada")
    tag = await create_tag(db, "News")
    await create_post(db, "A post", authors=[ada], tags=[tag])
    await create_post(db, "A page", authors=[ada], type=models.PostType.PAGE)
    ids = await graphql_data(
        client,
        '{ post(slug: "a-post") { id } page(slug: "a-page") { id } tag(slug: "news") { id } author(slug: "ada") { id } }',
    )

    for key, typename in (("post", "Post"), ("page", "Page"), ("tag", "Tag"), ("author", "Author")):
        node = await graphql_data(client, NODE, {"id": ids[key]["id"]})
        assert node["node"]["__typename"] == typename
        assert node["node"]["id"] == ids[key]["id"]

    nodes = await graphql_data(
        client,
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename } }",
        {"ids": [ids["tag"]["id"], "UG9zdDo5OTk", ids["post"]["id"]]},  # Post:999 does not exist
    )
    assert nodes["nodes"] == [{"__typename": "Tag"}, None, {"__typename": "Post"}]


async def test_a_draft_and_a_staff_user_are_not_nodes_for_readers(
    client: httpx.AsyncClient, db: Database
) -> None:
    ada = await create_user(db, name="Ada")
    draft = await create_post(db, "Hidden", authors=[ada], status=models.PostStatus.DRAFT)
    from graphql_schema.ids import to_global_id

    for global_id in (to_global_id("Post", draft.id), to_global_id("StaffUser", ada.id)):
        data = await graphql_data(client, NODE, {"id": global_id})
        assert data["node"] is None


async def test_malformed_ids_are_user_errors(client: httpx.AsyncClient) -> None:
    for bad in ("nope", "Tm9wZToxMg", "UG9zdDp4"):  # garbage, Nope:12, Post:x
        body = await graphql(client, NODE, {"id": bad})
        assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_viewer_is_null_and_users_needs_a_sign_in(client: httpx.AsyncClient) -> None:
    assert (await graphql_data(client, "{ viewer { email } }"))["viewer"] is None
    body = await graphql(client, "{ users { nodes { email } } }")
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body["data"] is None


async def test_settings_have_defaults_before_anything_is_stored(client: httpx.AsyncClient) -> None:
    data = await graphql_data(
        client, "{ settings { title url locale timezone navigation { label } } }"
    )
    assert data["settings"] == {
        "title": "Broadsheet",
        "url": "http://localhost:8000",
        "locale": "en",
        "timezone": "Etc/UTC",
        "navigation": [],
    }


async def test_settings_read_navigation_in_order(client: httpx.AsyncClient, db: Database) -> None:
    async with db.write_sessions.begin() as session:
        session.add(
            models.SiteSettings(
                title="Gazette",
                url="https://news.example",
                navigation=[{"label": "Home", "url": "/"}, {"label": "About", "url": "/about/"}],
                secondary_navigation=[{"label": "RSS", "url": "/rss/"}],
            )
        )
    data = await graphql_data(
        client, "{ settings { title navigation { label url } secondaryNavigation { label } } }"
    )
    assert data["settings"] == {
        "title": "Gazette",
        "navigation": [{"label": "Home", "url": "/"}, {"label": "About", "url": "/about/"}],
        "secondaryNavigation": [{"label": "RSS"}],
    }
    post = await graphql_data(client, "{ posts { nodes { url } } }")
    assert post["posts"]["nodes"] == []
