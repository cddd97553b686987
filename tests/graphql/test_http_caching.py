"""HTTP caching of GraphQL answers, on every database and both read paths: public GETs carry
an ETag and Cache-Control (304 when the ETag matches), staff answers and POSTs are for no
cache to keep."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from db import models
from db.engine import Database
from graphql_schema.ids import to_global_id
from service.tokens import digest
from tests.factories import create_post, create_user
from tests.helpers import graphql_data

LATEST = "{ posts(first: 5) { nodes { title } } }"
PUBLISH = """mutation($id: ID!) { publishPost(input: {id: $id}) { post { id } } }"""


@pytest.fixture
async def writer(db: Database) -> models.User:
    writer = await create_user(db, name="Writer")
    await create_post(db, "First", authors=[writer])
    return writer


async def api_key(db: Database, scope: models.ApiKeyScope) -> dict[str, str]:
    secret = f"bsk_caching_{scope.value}"
    async with db.write_sessions.begin() as session:
        session.add(models.ApiKey(name="k", scope=scope, key_hash=digest(secret), prefix="bsk_c"))
    return {"X-Api-Key": secret}


@pytest.mark.usefixtures("writer")
async def test_a_public_get_is_cacheable_and_revalidates_to_304(
    client: httpx.AsyncClient, db: Database, as_staff: Any
) -> None:
    first = await client.get("/graphql", params={"query": LATEST})
    assert first.status_code == 200
    assert first.headers["cache-control"] == "public, no-cache"
    assert first.headers["vary"] == "Accept, Authorization, X-API-Key"
    etag = first.headers["etag"]
    assert etag.startswith('"')  # strong: no W/
    assert etag.endswith('"')

    again = await client.get("/graphql", params={"query": LATEST}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    weak = await client.get(
        "/graphql", params={"query": LATEST}, headers={"If-None-Match": f'"x", W/{etag}'}
    )
    assert weak.status_code == 304

    # The content changes: the old ETag no longer matches.
    _, headers = await as_staff(models.Role.EDITOR)
    draft = await create_post(
        db, "Second", authors=[await create_user(db)], status=models.PostStatus.DRAFT
    )
    await graphql_data(client, PUBLISH, {"id": to_global_id("Post", draft.id)}, headers=headers)
    changed = await client.get(
        "/graphql", params={"query": LATEST}, headers={"If-None-Match": etag}
    )
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    titles = [node["title"] for node in changed.json()["data"]["posts"]["nodes"]]
    assert titles[0] == "Second"


@pytest.mark.usefixtures("writer")
async def test_each_media_type_has_its_own_etag(client: httpx.AsyncClient) -> None:
    plain = await client.get("/graphql", params={"query": LATEST})
    typed = await client.get(
        "/graphql",
        params={"query": LATEST},
        headers={"Accept": "application/graphql-response+json"},
    )
    assert plain.headers["etag"] != typed.headers["etag"]
    refused = await client.get(
        "/graphql",
        params={"query": LATEST},
        headers={
            "Accept": "application/graphql-response+json",
            "If-None-Match": plain.headers["etag"],
        },
    )
    assert refused.status_code == 200


@pytest.mark.usefixtures("writer")
@pytest.mark.parametrize(
    "settings",
    [{"http_cache_s_maxage": 60, "http_cache_stale_while_revalidate": 30}],
    indirect=True,
)
async def test_shared_caches_may_be_told_to_keep_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": LATEST})
    assert response.headers["cache-control"] == (
        "public, max-age=0, s-maxage=60, stale-while-revalidate=30"
    )


@pytest.mark.usefixtures("writer")
async def test_who_may_share_an_answer(
    client: httpx.AsyncClient, db: Database, as_staff: Any
) -> None:
    content = await client.get(
        "/graphql", params={"query": LATEST}, headers=await api_key(db, models.ApiKeyScope.CONTENT)
    )
    assert content.headers["cache-control"] == "public, no-cache"
    assert "etag" in content.headers

    _, staff = await as_staff(models.Role.EDITOR)
    for headers in (staff, await api_key(db, models.ApiKeyScope.ADMIN)):
        private = await client.get("/graphql", params={"query": LATEST}, headers=headers)
        assert private.status_code == 200
        assert private.headers["cache-control"] == "private, no-store"
        assert "etag" not in private.headers
        # An ETag from a public answer never turns a staff read into a 304.
        matched = await client.get(
            "/graphql",
            params={"query": LATEST},
            headers={**headers, "If-None-Match": content.headers["etag"]},
        )
        assert matched.status_code == 200


@pytest.mark.usefixtures("writer")
async def test_posts_and_errors_are_for_no_cache(client: httpx.AsyncClient) -> None:
    posted = await client.post("/graphql", json={"query": LATEST})
    assert posted.status_code == 200
    assert posted.headers["cache-control"] == "no-store"
    assert "etag" not in posted.headers
    failed = await client.get(
        "/graphql", params={"query": "{ posts(first: 1000) { nodes { title } } }"}
    )
    assert failed.json()["errors"]
    assert failed.headers["cache-control"] == "no-store"
    assert "etag" not in failed.headers
