"""Staff accounts and API keys through GraphQL, with the database checked afterwards."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from db import models
from db.engine import Database
from graphql_schema.ids import to_global_id
from tests.factories import create_post, create_user
from tests.helpers import PASSWORD, bearer, error_codes, graphql, graphql_data, sign_in

CREATE_USER = """mutation($input: CreateUserInput!) { createUser(input: $input) {
  user { id email name slug role status author { slug } } userErrors { field message code } } }"""
UPDATE_USER = """mutation($input: UpdateUserInput!) { updateUser(input: $input) {
  user { name slug email role status } userErrors { field code } } }"""
DELETE_USER = "mutation($input: DeleteUserInput!) { deleteUser(input: $input) { deletedId userErrors { code } } }"
CHANGE_PASSWORD = "mutation($input: ChangePasswordInput!) { changePassword(input: $input) { user { email } userErrors { field code } } }"
CREATE_KEY = "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id name scope prefix } userErrors { code } } }"
REVOKE_KEY = "mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { apiKey { revokedAt } userErrors { code } } }"


async def _users(db: Database) -> int:
    async with db.read_sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(models.User)) or 0)


@pytest.fixture
async def admin(client: httpx.AsyncClient, db: Database) -> dict[str, str]:
    await create_user(db, name="Owner", role=models.Role.OWNER, password=PASSWORD)
    await create_user(db, name="Admin", role=models.Role.ADMINISTRATOR, password=PASSWORD)
    return bearer(await sign_in(client, "admin@example.com"))


async def test_viewer_is_the_signed_in_user(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    data = await graphql_data(client, "{ viewer { email role author { name } } }", headers=admin)
    assert data["viewer"] == {
        "email": "admin@example.com",
        "role": "ADMINISTRATOR",
        "author": {"name": "Admin"},
    }


async def test_create_user_and_sign_in_as_them(
    client: httpx.AsyncClient, db: Database, admin: dict[str, str]
) -> None:
    data = await graphql_data(
        client,
        CREATE_USER,
        {
            "input": {
                "email": "Zoe@Example.com",
                "name": "Zoë Writer",
                "role": "AUTHOR",
                "password": PASSWORD,
            }
        },
        headers=admin,
    )

    created = data["createUser"]
    assert created["userErrors"] == []
    assert created["user"]["email"] == "Zoe@example.com"
    assert created["user"]["slug"] == "zoe-writer"
    assert created["user"]["author"] == {"slug": "zoe-writer"}
    assert created["user"]["role"] == "AUTHOR"
    assert (await sign_in(client, "zoe@example.com"))["access_token"]


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"email": "admin@example.com"}, ["input", "email"], "TAKEN"),
        ({"email": "not an email"}, ["input", "email"], "INVALID"),
        ({"password": "123456789"}, ["input", "password"], "TOO_SHORT"),
        ({"password": "qwertyuiop"}, ["input", "password"], "INVALID"),  # among the most common
        ({"name": "   "}, ["input", "name"], "REQUIRED"),
        ({"name": "x" * 192}, ["input", "name"], "TOO_LONG"),
    ],
)
async def test_create_user_refuses_bad_input_and_writes_nothing(
    client: httpx.AsyncClient,
    db: Database,
    admin: dict[str, str],
    change: dict[str, Any],
    field: list[str],
    code: str,
) -> None:
    before = await _users(db)
    user_input = {
        "email": "new@example.com",
        "name": "New",
        "role": "AUTHOR",
        "password": PASSWORD,
        **change,
    }

    data = await graphql_data(client, CREATE_USER, {"input": user_input}, headers=admin)

    assert data["createUser"]["user"] is None
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in data["createUser"]["userErrors"]
    ]
    assert await _users(db) == before


async def test_update_user_checks_uniqueness_and_writes_nothing_on_error(
    client: httpx.AsyncClient, db: Database, admin: dict[str, str]
) -> None:
    author = await create_user(db, name="Al", role=models.Role.AUTHOR)
    author_id = to_global_id("StaffUser", author.id)

    taken = await graphql_data(
        client,
        UPDATE_USER,
        {"input": {"id": author_id, "slug": "owner", "name": "Changed"}},
        headers=admin,
    )
    assert taken["updateUser"]["userErrors"] == [{"field": ["input", "slug"], "code": "TAKEN"}]
    async with db.read_sessions() as session:
        stored = await session.get(models.User, author.id)
    assert stored is not None
    assert stored.name == "Al"  # the valid part of a refused input is not written either

    ok = await graphql_data(
        client,
        UPDATE_USER,
        {"input": {"id": author_id, "slug": "al-b", "role": "EDITOR"}},
        headers=admin,
    )
    assert ok["updateUser"]["user"]["slug"] == "al-b"
    assert ok["updateUser"]["user"]["role"] == "EDITOR"


async def test_a_role_change_ends_that_users_sessions(
    client: httpx.AsyncClient, db: Database, admin: dict[str, str]
) -> None:
    await create_user(db, name="Al", role=models.Role.AUTHOR, password=PASSWORD)
    al = await sign_in(client, "al@example.com")
    viewer = await graphql_data(client, "{ viewer { id } }", headers=bearer(al))

    await graphql_data(
        client,
        UPDATE_USER,
        {"input": {"id": viewer["viewer"]["id"], "role": "EDITOR"}},
        headers=admin,
    )

    assert (await client.get("/api/v1/auth/me", headers=bearer(al))).status_code == 401
    refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": al["refresh_token"]})
    assert refresh.status_code == 401
    assert (await sign_in(client, "al@example.com"))["access_token"]  # signing in again works


async def test_change_password_ends_sessions_and_checks_the_current_one(
    client: httpx.AsyncClient, db: Database
) -> None:
    await create_user(db, name="Al", password=PASSWORD)
    tokens = await sign_in(client, "al@example.com")

    wrong = await graphql_data(
        client,
        CHANGE_PASSWORD,
        {"input": {"currentPassword": "nope nope nope", "newPassword": "another long passphrase"}},
        headers=bearer(tokens),
    )
    assert wrong["changePassword"]["userErrors"] == [
        {"field": ["input", "currentPassword"], "code": "INVALID"}
    ]

    done = await graphql_data(
        client,
        CHANGE_PASSWORD,
        {"input": {"currentPassword": PASSWORD, "newPassword": "another long passphrase"}},
        headers=bearer(tokens),
    )
    assert done["changePassword"] == {"user": {"email": "al@example.com"}, "userErrors": []}
    assert (
        await client.post("/graphql", json={"query": "{ viewer { id } }"}, headers=bearer(tokens))
    ).status_code == 401
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    ).status_code == 401
    assert (await sign_in(client, "al@example.com", "another long passphrase"))["access_token"]


async def test_deleting_a_user_passes_their_posts_to_the_owner(
    client: httpx.AsyncClient, db: Database, admin: dict[str, str]
) -> None:
    leaver = await create_user(db, name="Leaver")
    await create_post(db, "Legacy", authors=[leaver])

    data = await graphql_data(
        client, DELETE_USER, {"input": {"id": to_global_id("StaffUser", leaver.id)}}, headers=admin
    )

    assert data["deleteUser"] == {
        "deletedId": to_global_id("StaffUser", leaver.id),
        "userErrors": [],
    }
    post = await graphql_data(client, '{ post(slug: "legacy") { authors { slug } } }')
    assert post["post"]["authors"] == [{"slug": "owner"}]
    missing = await graphql_data(
        client, DELETE_USER, {"input": {"id": to_global_id("StaffUser", leaver.id)}}, headers=admin
    )
    assert missing["deleteUser"] == {"deletedId": None, "userErrors": [{"code": "NOT_FOUND"}]}


async def test_mutations_need_a_sign_in(client: httpx.AsyncClient) -> None:
    body = await graphql(client, CREATE_KEY, {"input": {"name": "x", "scope": "CONTENT"}})
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body["data"] is None


async def test_api_keys_are_shown_once_stored_hashed_and_revocable(
    client: httpx.AsyncClient, db: Database, admin: dict[str, str]
) -> None:
    writer = await create_user(db, name="W")
    await create_post(db, "Out", authors=[writer])
    await create_post(db, "Unfinished", authors=[writer], status=models.PostStatus.DRAFT)

    content = (
        await graphql_data(
            client, CREATE_KEY, {"input": {"name": "Next.js", "scope": "CONTENT"}}, headers=admin
        )
    )["createApiKey"]
    admin_key = (
        await graphql_data(
            client, CREATE_KEY, {"input": {"name": "Importer", "scope": "ADMIN"}}, headers=admin
        )
    )["createApiKey"]

    assert content["secret"].startswith("bsk_")
    assert content["secret"].startswith(content["apiKey"]["prefix"])
    async with db.read_sessions() as session:
        stored = list(await session.scalars(select(models.ApiKey.key_hash)))
    assert content["secret"] not in stored
    assert admin_key["secret"] not in stored
    listed = await graphql_data(client, "{ apiKeys { name scope } }", headers=admin)
    assert listed["apiKeys"] == [
        {"name": "Next.js", "scope": "CONTENT"},
        {"name": "Importer", "scope": "ADMIN"},
    ]

    query = "{ posts { nodes { title } } }"
    as_content = await graphql_data(client, query, headers={"X-Api-Key": content["secret"]})
    as_admin = await graphql_data(client, query, headers={"X-Api-Key": admin_key["secret"]})
    assert [n["title"] for n in as_content["posts"]["nodes"]] == ["Out"]
    assert sorted(n["title"] for n in as_admin["posts"]["nodes"]) == ["Out", "Unfinished"]

    revoked = await graphql_data(
        client, REVOKE_KEY, {"input": {"id": content["apiKey"]["id"]}}, headers=admin
    )
    assert revoked["revokeApiKey"]["apiKey"]["revokedAt"] is not None
    after = await client.post(
        "/graphql", json={"query": query}, headers={"X-Api-Key": content["secret"]}
    )
    assert after.status_code == 401
    unknown = await client.post(
        "/graphql", json={"query": query}, headers={"X-Api-Key": "bsk_unknown"}
    )
    assert unknown.status_code == 401


async def test_create_api_key_needs_a_name(
    client: httpx.AsyncClient, db: Database, admin: dict[str, str]
) -> None:
    data = await graphql_data(
        client, CREATE_KEY, {"input": {"name": " ", "scope": "CONTENT"}}, headers=admin
    )
    assert data["createApiKey"] == {
        "secret": None,
        "apiKey": None,
        "userErrors": [{"code": "REQUIRED"}],
    }
    async with db.read_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(models.ApiKey)) == 0


async def test_staff_see_drafts_by_role_over_http(client: httpx.AsyncClient, db: Database) -> None:
    await create_user(db, name="Ann", role=models.Role.AUTHOR, password=PASSWORD)
    other = await create_user(db, name="Otto")
    ann = await sign_in(client, "ann@example.com")
    async with db.read_sessions() as session:
        ann_user = (
            await session.execute(select(models.User).where(models.User.slug == "ann"))
        ).scalar_one()
    await create_post(db, "Mine", authors=[ann_user], status=models.PostStatus.DRAFT)
    await create_post(db, "Theirs", authors=[other], status=models.PostStatus.DRAFT)

    data = await graphql_data(
        client, "{ posts { nodes { title status markdown } } }", headers=bearer(ann)
    )

    assert data["posts"]["nodes"] == [
        {"title": "Mine", "status": "DRAFT", "markdown": "Some **body** text."}
    ]
