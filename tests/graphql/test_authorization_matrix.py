"""Who may do what: every mutation and every staff-only field, for each kind of caller, on
their own object and on someone else's. A mutation or staff-only field with no row here
fails `test_the_matrix_covers_the_whole_schema`."""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI
from graphql import GraphQLInterfaceType, GraphQLObjectType
from PIL import Image

from db import models
from db.engine import Database
from graphql_schema.ids import to_global_id
from graphql_schema.schema import schema
from service.tokens import digest
from tests.factories import create_post, create_user
from tests.helpers import PASSWORD, graphql

Role = models.Role
ACTORS = [
    "anonymous",
    "content_key",
    "admin_key",
    "owner",
    "administrator",
    "editor",
    "author",
    "contributor",
]
ALLOW, FORBIDDEN, UNAUTHENTICATED, HIDDEN = "allow", "FORBIDDEN", "UNAUTHENTICATED", "hidden"


@dataclass
class World:
    client: httpx.AsyncClient
    db: Database
    headers: dict[str, dict[str, str]]
    users: dict[str, models.User]

    async def run(
        self, actor: str, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return await graphql(self.client, query, variables, headers=self.headers[actor])

    async def target(self, role: Role) -> models.User:
        """A fresh account with `role` to act on (someone else's object)."""
        return await create_user(
            self.db, role=role, password=PASSWORD if role is not Role.OWNER else None
        )


@pytest.fixture
async def world(app: FastAPI, client: httpx.AsyncClient, db: Database) -> World:
    signer = app.state.authenticator.signer
    users = {
        role.value: await create_user(db, name=f"The {role.value}", role=role, password=PASSWORD)
        for role in Role
    }
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for name, user in users.items():
        headers[name] = {
            "Authorization": f"Bearer {signer.issue(user_id=user.id, token_version=0)}"
        }
    async with db.write_sessions.begin() as session:
        for scope in models.ApiKeyScope:
            secret = f"bsk_test_{scope.value}"
            session.add(
                models.ApiKey(
                    name=scope.value, scope=scope, key_hash=digest(secret), prefix="bsk_test"
                )
            )
            headers[f"{scope.value}_key"] = {"X-Api-Key": secret}
    return World(client=client, db=db, headers=headers, users=users)


def outcome(body: dict[str, Any], payload: str | None = None) -> str:
    """allow / FORBIDDEN / UNAUTHENTICATED / hidden (a NOT_FOUND userError or a null)."""
    if body.get("errors"):
        return cast(str, body["errors"][0]["extensions"]["code"])
    data = body["data"]
    if payload is None:
        return ALLOW
    result = data[payload]
    if result.get("userErrors"):
        codes = {e["code"] for e in result["userErrors"]}
        return HIDDEN if codes == {"NOT_FOUND"} else f"userErrors:{sorted(codes)}"
    return ALLOW


def row(**by_actor: str) -> dict[str, str]:
    assert set(by_actor) == set(ACTORS), set(ACTORS) ^ set(by_actor)
    return by_actor


def expect_all_staff(allowed: str) -> dict[str, str]:
    return row(
        anonymous=UNAUTHENTICATED,
        content_key=UNAUTHENTICATED,
        admin_key=allowed,
        owner=allowed,
        administrator=allowed,
        editor=allowed,
        author=allowed,
        contributor=allowed,
    )


CREATE_USER = "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } userErrors { code } } }"
UPDATE_USER = "mutation($input: UpdateUserInput!) { updateUser(input: $input) { user { id } userErrors { code } } }"
DELETE_USER = "mutation($input: DeleteUserInput!) { deleteUser(input: $input) { deletedId userErrors { code } } }"
CHANGE_PASSWORD = "mutation($input: ChangePasswordInput!) { changePassword(input: $input) { user { id } userErrors { code } } }"
CREATE_KEY = "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret userErrors { code } } }"
REVOKE_KEY = "mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { apiKey { revokedAt } userErrors { code } } }"

ADMINS_ONLY = row(
    anonymous=UNAUTHENTICATED,
    content_key=UNAUTHENTICATED,
    admin_key=ALLOW,
    owner=ALLOW,
    administrator=ALLOW,
    editor=FORBIDDEN,
    author=FORBIDDEN,
    contributor=FORBIDDEN,
)
MANAGERS_OF_WRITERS = {**ADMINS_ONLY, "editor": ALLOW}


async def _create_user(world: World, actor: str, role: str) -> str:
    n = len(world.headers) + id(actor) % 10_000
    body = await world.run(
        actor,
        CREATE_USER,
        {
            "input": {
                "email": f"new{n}-{actor}-{role}@example.com",
                "name": "New",
                "role": role,
                "password": PASSWORD,
            }
        },
    )
    return outcome(body, "createUser")


async def _update_other(world: World, actor: str, role: Role, change: dict[str, Any]) -> str:
    target = await world.target(role)
    body = await world.run(
        actor, UPDATE_USER, {"input": {"id": to_global_id("StaffUser", target.id), **change}}
    )
    return outcome(body, "updateUser")


async def _update_own(world: World, actor: str, change: dict[str, Any]) -> str:
    user = world.users.get(actor)
    global_id = to_global_id("StaffUser", user.id if user else world.users["owner"].id)
    body = await world.run(actor, UPDATE_USER, {"input": {"id": global_id, **change}})
    return outcome(body, "updateUser")


async def _delete_other(world: World, actor: str, role: Role) -> str:
    target = await world.target(role)
    body = await world.run(
        actor, DELETE_USER, {"input": {"id": to_global_id("StaffUser", target.id)}}
    )
    return outcome(body, "deleteUser")


async def _revoke_key(world: World, actor: str) -> str:
    async with world.db.write_sessions.begin() as session:
        key = models.ApiKey(
            name="x", scope=models.ApiKeyScope.CONTENT, key_hash=digest(f"k-{actor}"), prefix="bsk_"
        )
        session.add(key)
        await session.flush()
        key_id = key.id
    body = await world.run(actor, REVOKE_KEY, {"input": {"id": to_global_id("ApiKey", key_id)}})
    return outcome(body, "revokeApiKey")


async def _change_own_password(world: World, actor: str) -> str:
    body = await world.run(
        actor,
        CHANGE_PASSWORD,
        {"input": {"currentPassword": PASSWORD, "newPassword": "a brand new passphrase"}},
    )
    return outcome(body, "changePassword")


Case = Callable[[World, str], Awaitable[str]]

# (mutation or field, situation) -> (how to try it, expected outcome per actor)


async def _media_of(world: World, uploader: models.User | None) -> str:
    """A library entry (its bytes are not needed to change or delete it)."""
    async with world.db.write_sessions.begin() as session:
        media = models.Media(
            sha256=secrets.token_hex(32),
            filename="photo.jpg", format="jpeg", mime_type="image/jpeg",
            bytes=1, width=1, height=1, uploaded_by=None if uploader is None else uploader.id,
        )  # fmt: skip
        session.add(media)
    return to_global_id("Media", media.id)


UPDATE_MEDIA = (
    'mutation($id: ID!) { updateMedia(input: {id: $id, alt: "x"}) { userErrors { code } } }'
)
DELETE_MEDIA = "mutation($id: ID!) { deleteMedia(input: {id: $id}) { userErrors { code } } }"


async def _change_media(world: World, actor: str, document: str, name: str, own: bool) -> str:
    uploader = world.users.get(actor) if own else await world.target(Role.AUTHOR)
    id = await _media_of(world, uploader)
    return outcome(await world.run(actor, document, {"id": id}), name)


async def _upload_media(world: World, actor: str) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (len(actor), 0, 0)).save(buffer, "PNG")
    operations = {
        "query": "mutation($input: UploadMediaInput!) { uploadMedia(input: $input) "
        "{ userErrors { code } } }",
        "variables": {"input": {"file": None}},
    }
    response = await world.client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": '{"0": ["variables.input.file"]}'},
        files={"0": ("a.png", buffer.getvalue(), "image/png")},
        headers=world.headers[actor],
    )
    return outcome(response.json(), "uploadMedia")


EDITORS_OR_OWN_UPLOADER = {**ADMINS_ONLY, "editor": ALLOW}


MATRIX: dict[tuple[str, str], tuple[Case, dict[str, str]]] = {
    ("createUser", "an author"): (lambda w, a: _create_user(w, a, "AUTHOR"), MANAGERS_OF_WRITERS),
    ("createUser", "an editor"): (lambda w, a: _create_user(w, a, "EDITOR"), ADMINS_ONLY),
    ("createUser", "an administrator"): (
        lambda w, a: _create_user(w, a, "ADMINISTRATOR"),
        ADMINS_ONLY,
    ),
    ("createUser", "a second owner"): (
        lambda w, a: _create_user(w, a, "OWNER"),
        {**ADMINS_ONLY, "admin_key": FORBIDDEN, "owner": FORBIDDEN, "administrator": FORBIDDEN},
    ),
    ("updateUser", "own profile"): (
        lambda w, a: _update_own(w, a, {"bio": "Hello"}),
        {
            **expect_all_staff(ALLOW),
            "admin_key": FORBIDDEN,
        },  # a key has no profile: acts on the owner's
    ),
    ("updateUser", "own role"): (
        lambda w, a: _update_own(w, a, {"role": "AUTHOR"}),
        {**expect_all_staff(FORBIDDEN)},
    ),
    ("updateUser", "someone else's profile (author)"): (
        lambda w, a: _update_other(w, a, Role.AUTHOR, {"bio": "Edited"}),
        MANAGERS_OF_WRITERS,
    ),
    ("updateUser", "someone else's profile (editor)"): (
        lambda w, a: _update_other(w, a, Role.EDITOR, {"bio": "Edited"}),
        ADMINS_ONLY,
    ),
    ("updateUser", "promote a contributor to author"): (
        lambda w, a: _update_other(w, a, Role.CONTRIBUTOR, {"role": "AUTHOR"}),
        MANAGERS_OF_WRITERS,
    ),
    ("updateUser", "promote an author to editor"): (
        lambda w, a: _update_other(w, a, Role.AUTHOR, {"role": "EDITOR"}),
        ADMINS_ONLY,
    ),
    ("updateUser", "lock an author"): (
        lambda w, a: _update_other(w, a, Role.AUTHOR, {"status": "LOCKED"}),
        MANAGERS_OF_WRITERS,
    ),
    ("updateUser", "demote the owner"): (
        lambda w, a: (
            _update_own(w, "owner", {"role": "EDITOR"}) if a == "owner" else _update_owner_as(w, a)
        ),
        {**expect_all_staff(FORBIDDEN)},
    ),
    ("deleteUser", "someone else (author)"): (
        lambda w, a: _delete_other(w, a, Role.AUTHOR),
        MANAGERS_OF_WRITERS,
    ),
    ("deleteUser", "someone else (administrator)"): (
        lambda w, a: _delete_other(w, a, Role.ADMINISTRATOR),
        ADMINS_ONLY,
    ),
    ("deleteUser", "the owner"): (
        lambda w, a: _delete_owner_as(w, a),
        {**expect_all_staff(FORBIDDEN)},
    ),
    ("changePassword", "own"): (
        _change_own_password,
        {**expect_all_staff(ALLOW), "admin_key": FORBIDDEN},
    ),
    ("createApiKey", "any"): (
        lambda w, a: (
            w.run(a, CREATE_KEY, {"input": {"name": "Site", "scope": "CONTENT"}}).then(
                "createApiKey"
            )
            if False
            else _create_key(w, a)
        ),
        ADMINS_ONLY,
    ),
    ("revokeApiKey", "any"): (_revoke_key, ADMINS_ONLY),
    ("uploadMedia", "any"): (
        _upload_media,
        # No credentials: refused before the multipart body is parsed.
        {**expect_all_staff(ALLOW), "anonymous": "BAD_REQUEST"},
    ),
    ("updateMedia", "someone else's file"): (
        lambda w, a: _change_media(w, a, UPDATE_MEDIA, "updateMedia", own=False),
        EDITORS_OR_OWN_UPLOADER,
    ),
    ("updateMedia", "own file"): (
        lambda w, a: _change_media(w, a, UPDATE_MEDIA, "updateMedia", own=True),
        expect_all_staff(ALLOW),
    ),
    ("deleteMedia", "someone else's file"): (
        lambda w, a: _change_media(w, a, DELETE_MEDIA, "deleteMedia", own=False),
        EDITORS_OR_OWN_UPLOADER,
    ),
    ("deleteMedia", "own file"): (
        lambda w, a: _change_media(w, a, DELETE_MEDIA, "deleteMedia", own=True),
        expect_all_staff(ALLOW),
    ),
    ("createWebhook", "any"): (
        lambda w, a: _webhook_mutation(
            w,
            a,
            "createWebhook",
            "mutation($url: String!) { createWebhook(input: {url: $url, "
            'events: ["site.changed"]}) { secret userErrors { code } } }',
        ),
        ADMINS_ONLY,
    ),
    ("updateWebhook", "any"): (
        lambda w, a: _webhook_mutation(
            w,
            a,
            "updateWebhook",
            'mutation($id: ID!) { updateWebhook(input: {id: $id, description: "x"}) '
            "{ webhook { id } userErrors { code } } }",
        ),
        ADMINS_ONLY,
    ),
    ("deleteWebhook", "any"): (
        lambda w, a: _webhook_mutation(
            w,
            a,
            "deleteWebhook",
            "mutation($id: ID!) { deleteWebhook(input: {id: $id}) { deletedId userErrors { code } } }",
        ),
        ADMINS_ONLY,
    ),
    ("rotateWebhookSecret", "any"): (
        lambda w, a: _webhook_mutation(
            w,
            a,
            "rotateWebhookSecret",
            "mutation($id: ID!) { rotateWebhookSecret(input: {id: $id}) { secret userErrors { code } } }",
        ),
        ADMINS_ONLY,
    ),
    ("testWebhook", "any"): (
        lambda w, a: _webhook_mutation(
            w,
            a,
            "testWebhook",
            "mutation($id: ID!) { testWebhook(input: {id: $id}) { delivery { id } userErrors { code } } }",
        ),
        ADMINS_ONLY,
    ),
    ("redeliverWebhook", "any"): (
        lambda w, a: _webhook_mutation(
            w,
            a,
            "redeliverWebhook",
            "mutation($id: ID!) { redeliverWebhook(input: {webhookId: $id}) "
            "{ deliveries { id } userErrors { code } } }",
        ),
        ADMINS_ONLY,
    ),
}

# A public address written as an IP: accepted without a DNS lookup (the tests have no DNS).
PUBLIC_URL = "https://93.184.215.14/hook"


async def _new_webhook(world: World) -> int:
    async with world.db.write_sessions.begin() as session:
        webhook = models.Webhook(
            url=PUBLIC_URL, events=["site.changed"], secret="whsec_dGVzdA==", enabled=True
        )
        session.add(webhook)
        await session.flush()
        return webhook.id


async def _webhook_mutation(world: World, actor: str, name: str, document: str) -> str:
    id = to_global_id("Webhook", await _new_webhook(world))
    # Each document declares the variables it uses; the other is ignored.
    variables = {"id": id, "url": PUBLIC_URL}
    return outcome(await world.run(actor, document, variables), name)


async def _create_key(world: World, actor: str) -> str:
    body = await world.run(actor, CREATE_KEY, {"input": {"name": "Site", "scope": "CONTENT"}})
    return outcome(body, "createApiKey")


async def _update_owner_as(world: World, actor: str) -> str:
    owner = world.users["owner"]
    body = await world.run(
        actor, UPDATE_USER, {"input": {"id": to_global_id("StaffUser", owner.id), "role": "EDITOR"}}
    )
    return outcome(body, "updateUser")


async def _delete_owner_as(world: World, actor: str) -> str:
    owner = world.users["owner"]
    body = await world.run(
        actor, DELETE_USER, {"input": {"id": to_global_id("StaffUser", owner.id)}}
    )
    return outcome(body, "deleteUser")


def editors_and(author: str, contributor: str) -> dict[str, str]:
    """Editors and up (and ADMIN keys) may; authors and contributors as given."""
    return row(
        anonymous=UNAUTHENTICATED,
        content_key=UNAUTHENTICATED,
        admin_key=ALLOW,
        owner=ALLOW,
        administrator=ALLOW,
        editor=ALLOW,
        author=author,
        contributor=contributor,
    )


async def _content_of(
    world: World, actor: str, *, own: bool, status: models.PostStatus, page: bool = False
) -> models.Post:
    """A post (or page) by the actor (the owner stands in for callers without a user), or by
    someone else."""
    owner = world.users.get(actor, world.users["owner"]) if own else await world.target(Role.AUTHOR)
    return await create_post(
        world.db,
        f"{actor} {'own' if own else 'other'} {status.value} {id(owner)}",
        authors=[owner],
        status=status,
        type=models.PostType.PAGE if page else models.PostType.POST,
    )


def _content_case(
    mutation: str,
    *,
    own: bool,
    status: models.PostStatus,
    page: bool = False,
    extra: dict[str, Any] | None = None,
) -> Case:
    kind = "Page" if page else "Post"
    document = f"mutation($input: {mutation[0].upper() + mutation[1:]}Input!) {{ {mutation}(input: $input) {{ userErrors {{ code }} }} }}"

    async def attempt(world: World, actor: str) -> str:
        post = await _content_of(world, actor, own=own, status=status, page=page)
        if mutation.startswith("restore"):
            async with world.db.write_sessions.begin() as session:
                revision = models.PostRevision(post_id=post.id, title="Older", markdown="old")
                session.add(revision)
                await session.flush()
                variables = {"revisionId": to_global_id("Revision", revision.id)}
        else:
            variables = {"id": to_global_id(kind, post.id), **(extra or {})}
        return outcome(await world.run(actor, document, {"input": variables}), mutation)

    return attempt


async def _create_content(world: World, actor: str, mutation: str) -> str:
    document = f"mutation($input: {mutation[0].upper() + mutation[1:]}Input!) {{ {mutation}(input: $input) {{ userErrors {{ code }} }} }}"
    return outcome(
        await world.run(actor, document, {"input": {"title": f"New by {actor}"}}), mutation
    )


async def _tag_case(world: World, actor: str, mutation: str) -> str:
    from tests.factories import create_tag

    tag = await create_tag(world.db, f"Tag for {actor} {mutation}")
    document = f"mutation($input: {mutation[0].upper() + mutation[1:]}Input!) {{ {mutation}(input: $input) {{ userErrors {{ code }} }} }}"
    variables = (
        {"name": f"Made by {actor}"}
        if mutation == "createTag"
        else {"id": to_global_id("Tag", tag.id)}
    )
    if mutation == "updateTag":
        variables["description"] = "Changed"
    return outcome(await world.run(actor, document, {"input": variables}), mutation)


async def _settings_case(world: World, actor: str) -> str:
    document = "mutation($input: UpdateSettingsInput!) { updateSettings(input: $input) { userErrors { code } } }"
    return outcome(
        await world.run(actor, document, {"input": {"title": f"By {actor}"}}), "updateSettings"
    )


async def _preview_case(world: World, actor: str, *, own: bool) -> str:
    post = await _content_of(world, actor, own=own, status=models.PostStatus.DRAFT)
    document = "mutation($input: CreatePreviewTokenInput!) { createPreviewToken(input: $input) { userErrors { code } } }"
    return outcome(
        await world.run(actor, document, {"input": {"id": to_global_id("Post", post.id)}}),
        "createPreviewToken",
    )


DRAFT, PUBLISHED = models.PostStatus.DRAFT, models.PostStatus.PUBLISHED
EDIT = {"title": "Edited"}

MATRIX.update(
    {
        ("createPost", "a draft"): (
            lambda w, a: _create_content(w, a, "createPost"),
            expect_all_staff(ALLOW),
        ),
        ("updatePost", "own draft"): (
            _content_case("updatePost", own=True, status=DRAFT, extra=EDIT),
            editors_and(ALLOW, ALLOW),
        ),
        ("updatePost", "own published post"): (
            _content_case("updatePost", own=True, status=PUBLISHED, extra=EDIT),
            editors_and(ALLOW, FORBIDDEN),
        ),
        ("updatePost", "someone else's published post"): (
            _content_case("updatePost", own=False, status=PUBLISHED, extra=EDIT),
            editors_and(FORBIDDEN, FORBIDDEN),
        ),
        ("updatePost", "someone else's draft"): (
            _content_case("updatePost", own=False, status=DRAFT, extra=EDIT),
            editors_and(HIDDEN, HIDDEN),
        ),
        ("deletePost", "own draft"): (
            _content_case("deletePost", own=True, status=DRAFT),
            editors_and(ALLOW, ALLOW),
        ),
        ("deletePost", "someone else's published post"): (
            _content_case("deletePost", own=False, status=PUBLISHED),
            editors_and(FORBIDDEN, FORBIDDEN),
        ),
        ("publishPost", "own draft"): (
            _content_case("publishPost", own=True, status=DRAFT),
            editors_and(ALLOW, FORBIDDEN),
        ),
        ("publishPost", "someone else's draft"): (
            _content_case("publishPost", own=False, status=DRAFT),
            editors_and(HIDDEN, HIDDEN),
        ),
        ("unpublishPost", "own published post"): (
            _content_case("unpublishPost", own=True, status=PUBLISHED),
            editors_and(ALLOW, FORBIDDEN),
        ),
        ("unpublishPost", "someone else's published post"): (
            _content_case("unpublishPost", own=False, status=PUBLISHED),
            editors_and(FORBIDDEN, FORBIDDEN),
        ),
        ("restorePostRevision", "own draft"): (
            _content_case("restorePostRevision", own=True, status=DRAFT),
            editors_and(ALLOW, ALLOW),
        ),
        ("restorePostRevision", "someone else's published post"): (
            _content_case("restorePostRevision", own=False, status=PUBLISHED),
            editors_and(FORBIDDEN, FORBIDDEN),
        ),
        ("createPage", "a draft"): (
            lambda w, a: _create_content(w, a, "createPage"),
            editors_and(FORBIDDEN, FORBIDDEN),
        ),
        ("updatePage", "a published page"): (
            _content_case("updatePage", own=False, status=PUBLISHED, page=True, extra=EDIT),
            editors_and(FORBIDDEN, FORBIDDEN),
        ),
        ("updatePage", "a draft page"): (
            _content_case("updatePage", own=False, status=DRAFT, page=True, extra=EDIT),
            editors_and(HIDDEN, HIDDEN),
        ),
        ("updatePage", "a page the caller is credited on"): (
            _content_case("updatePage", own=True, status=PUBLISHED, page=True, extra=EDIT),
            editors_and(FORBIDDEN, FORBIDDEN),
        ),
        ("deletePage", "a page the caller is credited on"): (
            _content_case("deletePage", own=True, status=DRAFT, page=True),
            editors_and(FORBIDDEN, FORBIDDEN),
        ),
        ("deletePage", "a published page"): (
            _content_case("deletePage", own=False, status=PUBLISHED, page=True),
            editors_and(FORBIDDEN, FORBIDDEN),
        ),
        ("publishPage", "a draft page"): (
            _content_case("publishPage", own=False, status=DRAFT, page=True),
            editors_and(HIDDEN, HIDDEN),
        ),
        ("unpublishPage", "a published page"): (
            _content_case("unpublishPage", own=False, status=PUBLISHED, page=True),
            editors_and(FORBIDDEN, FORBIDDEN),
        ),
        ("restorePageRevision", "a published page"): (
            _content_case("restorePageRevision", own=False, status=PUBLISHED, page=True),
            editors_and(FORBIDDEN, FORBIDDEN),
        ),
        ("createTag", "any"): (
            lambda w, a: _tag_case(w, a, "createTag"),
            editors_and(ALLOW, FORBIDDEN),
        ),
        ("updateTag", "any"): (
            lambda w, a: _tag_case(w, a, "updateTag"),
            editors_and(FORBIDDEN, FORBIDDEN),
        ),
        ("deleteTag", "any"): (
            lambda w, a: _tag_case(w, a, "deleteTag"),
            editors_and(FORBIDDEN, FORBIDDEN),
        ),
        ("updateSettings", "any"): (_settings_case, ADMINS_ONLY),
        ("createPreviewToken", "own draft"): (
            lambda w, a: _preview_case(w, a, own=True),
            editors_and(ALLOW, ALLOW),
        ),
        ("createPreviewToken", "someone else's draft"): (
            lambda w, a: _preview_case(w, a, own=False),
            editors_and(HIDDEN, HIDDEN),
        ),
    }
)


async def _staff_field(
    world: World, actor: str, query: str, pick: Callable[[dict[str, Any]], Any]
) -> str:
    body = await world.run(actor, query)
    if body.get("errors"):
        return cast(str, body["errors"][0]["extensions"]["code"])
    return ALLOW if pick(body["data"]) is not None else HIDDEN


async def _webhook_by_node(world: World, actor: str) -> str:
    id = to_global_id("Webhook", await _new_webhook(world))
    return await _staff_field(world, actor, f'{{ node(id: "{id}") {{ id }} }}', lambda d: d["node"])


STAFF_SEES = {**expect_all_staff(ALLOW), "anonymous": HIDDEN, "content_key": HIDDEN}

FIELDS: dict[tuple[str, str], tuple[Case, dict[str, str]]] = {
    ("Content.markdown", "someone else's published post"): (
        lambda w, a: _staff_field(
            w, a, '{ post(slug: "published") { markdown } }', lambda d: d["post"]["markdown"]
        ),
        STAFF_SEES,
    ),
    ("Content.revisions", "someone else's published post"): (
        lambda w, a: _staff_field(
            w,
            a,
            '{ post(slug: "published") { revisions { id } } }',
            lambda d: d["post"]["revisions"],
        ),
        STAFF_SEES,
    ),
    ("Content.markdown", "someone else's draft"): (
        lambda w, a: _staff_field(
            w,
            a,
            '{ post(slug: "drafted") { markdown } }',
            lambda d: d["post"] and d["post"]["markdown"],
        ),
        {**STAFF_SEES, "author": HIDDEN, "contributor": HIDDEN},
    ),
    ("Query.users", "list"): (
        lambda w, a: _staff_field(w, a, "{ users { totalCount } }", lambda d: d["users"]),
        expect_all_staff(ALLOW),
    ),
    ("Query.apiKeys", "list"): (
        lambda w, a: _staff_field(w, a, "{ apiKeys { id } }", lambda d: d["apiKeys"]),
        ADMINS_ONLY,
    ),
    ("Query.media", "list"): (
        lambda w, a: _staff_field(w, a, "{ media { totalCount } }", lambda d: d["media"]),
        expect_all_staff(ALLOW),
    ),
    ("Query.webhooks", "list"): (
        lambda w, a: _staff_field(w, a, "{ webhooks { totalCount } }", lambda d: d["webhooks"]),
        ADMINS_ONLY,
    ),
    ("Webhook", "by node id"): (
        _webhook_by_node,
        {
            **{actor: HIDDEN for actor in ACTORS},
            **{actor: ALLOW for actor in ("admin_key", "owner", "administrator")},
        },
    ),
    ("StaffUser", "someone else's account by node id"): (
        lambda w, a: _staff_field(
            w,
            a,
            f'{{ node(id: "{to_global_id("StaffUser", w.users["editor"].id)}") {{ id }} }}',
            lambda d: d["node"],
        ),
        STAFF_SEES,
    ),
}


@pytest.mark.parametrize("key", list(MATRIX), ids=[f"{m}: {s}" for m, s in MATRIX])
async def test_mutation_permissions(world: World, key: tuple[str, str]) -> None:
    attempt, expected = MATRIX[key]
    got = {actor: await attempt(world, actor) for actor in ACTORS}
    assert got == expected


@pytest.mark.parametrize("key", list(FIELDS), ids=[f"{f}: {s}" for f, s in FIELDS])
async def test_staff_only_field_permissions(world: World, key: tuple[str, str]) -> None:
    other = await world.target(Role.AUTHOR)
    await create_post(world.db, "Published", authors=[other])
    await create_post(world.db, "Drafted", authors=[other], status=models.PostStatus.DRAFT)
    attempt, expected = FIELDS[key]
    got = {actor: await attempt(world, actor) for actor in ACTORS}
    assert got == expected


def test_the_matrix_covers_the_whole_schema() -> None:
    gql = schema._schema
    mutations = set(gql.mutation_type.fields) if gql.mutation_type else set()
    assert mutations == {name for name, _ in MATRIX}

    restricted = set()
    for type_name, type_ in gql.type_map.items():
        if type_name.startswith("__"):
            continue
        description = (type_.description or "").lower()
        # ApiKey is reachable only through apiKeys and the API key mutations, which have rows.
        restricted_type = "staff only" in description or "administrators only" in description
        if restricted_type and type_name != "ApiKey":
            restricted.add(type_name)
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in type_.fields.items():
                text = (field.description or "").lower()
                if "staff only" in text or "administrators only" in text:
                    owner = "Content" if type_name in {"Post", "Page"} else type_name
                    restricted.add(f"{owner}.{field_name}")
    assert restricted == {name for name, _ in FIELDS}
