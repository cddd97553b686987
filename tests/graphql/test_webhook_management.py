"""Administrators manage webhooks through GraphQL; bad input is a userError and writes
nothing; targets on private addresses are refused unless allowed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from db import models
from db.engine import Database
from graphql_schema.ids import to_global_id
from tests.conftest import StatementCounter
from tests.helpers import error_codes, graphql, graphql_data

Role = models.Role
PUBLIC = "https://93.184.215.14/hooks/broadsheet"  # a public address, no DNS needed
FULL_WIDTH_LOCALHOST = "".join(chr(ord(letter) + 0xFEE0) for letter in "localhost")

CREATE = """mutation($input: CreateWebhookInput!) {
  createWebhook(input: $input) {
    webhook { id url events description enabled disabledReason createdAt }
    secret userErrors { field code message } } }"""
UPDATE = """mutation($input: UpdateWebhookInput!) {
  updateWebhook(input: $input) { webhook { url events description enabled disabledReason }
    userErrors { field code message } } }"""
DELETE = (
    """mutation($id: ID!) { deleteWebhook(input: {id: $id}) { deletedId userErrors { code } } }"""
)
LIST = """{ webhooks(first: 10) { totalCount nodes { id url events } } }"""
REDELIVER = """mutation($input: RedeliverWebhookInput!) {
  redeliverWebhook(input: $input) { deliveries { id } userErrors { field code message } } }"""


async def create(
    client: httpx.AsyncClient, headers: dict[str, str], input: dict[str, Any]
) -> dict[str, Any]:
    """createWebhook's payload."""
    payload: dict[str, Any] = (
        await graphql_data(client, CREATE, {"input": input}, headers=headers)
    )["createWebhook"]
    return payload


async def count_webhooks(db: Database) -> int:
    async with db.read_sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(models.Webhook)) or 0)


async def test_create_list_update_delete(
    client: httpx.AsyncClient, db: Database, as_staff: Any
) -> None:
    _, headers = await as_staff(Role.ADMINISTRATOR)
    created = await create(
        client,
        headers,
        {
            "url": PUBLIC,
            "events": ["post.published", "site.changed", "post.published"],
            "description": "  Next.js revalidation  ",
        },
    )
    assert created["userErrors"] == []
    webhook = created["webhook"]
    assert webhook["events"] == ["post.published", "site.changed"]  # duplicates dropped
    assert webhook["description"] == "Next.js revalidation"
    assert webhook["enabled"] is True
    assert webhook["disabledReason"] is None
    assert created["secret"].startswith("whsec_")
    assert len(created["secret"]) == 50
    # The secret is shown once: nothing reads it back.
    listed = (await graphql_data(client, LIST, headers=headers))["webhooks"]
    assert listed == {"totalCount": 1, "nodes": [{k: webhook[k] for k in ("id", "url", "events")}]}

    updated = (
        await graphql_data(
            client,
            UPDATE,
            {"input": {"id": webhook["id"], "enabled": False, "description": None}},
            headers=headers,
        )
    )["updateWebhook"]
    assert updated["webhook"]["enabled"] is False
    assert updated["webhook"]["disabledReason"] == "Disabled by an administrator."
    assert updated["webhook"]["description"] is None
    again = (
        await graphql_data(
            client, UPDATE, {"input": {"id": webhook["id"], "enabled": True}}, headers=headers
        )
    )["updateWebhook"]
    assert again["webhook"]["enabled"] is True
    assert again["webhook"]["disabledReason"] is None

    deleted = await graphql_data(client, DELETE, {"id": webhook["id"]}, headers=headers)
    assert deleted["deleteWebhook"] == {"deletedId": webhook["id"], "userErrors": []}
    assert await count_webhooks(db) == 0


BAD_INPUTS = [
    ({"url": "not a url", "events": ["site.changed"]}, ["input", "url"], "INVALID"),
    ({"url": "ftp://93.184.215.14/x", "events": ["site.changed"]}, ["input", "url"], "INVALID"),
    ({"url": "https://user:pw@93.184.215.14/", "events": ["site.changed"]}, ["input", "url"], "INVALID"),
    ({"url": "https://[::1", "events": ["site.changed"]}, ["input", "url"], "INVALID"),
    ({"url": "https://93.184.215.14:99999/", "events": ["site.changed"]}, ["input", "url"], "INVALID"),
    ({"url": "", "events": ["site.changed"]}, ["input", "url"], "REQUIRED"),
    ({"url": "https://x/" + "a" * 2000, "events": ["site.changed"]}, ["input", "url"], "TOO_LONG"),
    ({"url": PUBLIC, "events": []}, ["input", "events"], "REQUIRED"),
    ({"url": PUBLIC, "events": ["post.publish"]}, ["input", "events", "0"], "INVALID"),
    ({"url": PUBLIC, "events": ["*"]}, ["input", "events", "0"], "INVALID"),
    ({"url": PUBLIC, "events": ["site.changed", "x" * 10_000]}, ["input", "events", "1"], "INVALID"),
    ({"url": PUBLIC, "events": ["site.changed"], "description": "d" * 501},
     ["input", "description"], "TOO_LONG"),
    # Private, loopback, link-local and metadata targets, by address and by name.
    ({"url": "http://127.0.0.1:8000/hook", "events": ["site.changed"]}, ["input", "url"], "INVALID"),
    ({"url": "http://localhost/hook", "events": ["site.changed"]}, ["input", "url"], "INVALID"),
    ({"url": "http://10.1.2.3/hook", "events": ["site.changed"]}, ["input", "url"], "INVALID"),
    ({"url": "http://192.168.0.1/hook", "events": ["site.changed"]}, ["input", "url"], "INVALID"),
    ({"url": "http://169.254.169.254/latest/meta-data", "events": ["site.changed"]},
     ["input", "url"], "INVALID"),
    ({"url": "http://[::1]/hook", "events": ["site.changed"]}, ["input", "url"], "INVALID"),
    ({"url": "http://[::ffff:127.0.0.1]/hook", "events": ["site.changed"]}, ["input", "url"], "INVALID"),
    ({"url": "http://0.0.0.0/hook", "events": ["site.changed"]}, ["input", "url"], "INVALID"),
    ({"url": "http://100.64.0.1/hook", "events": ["site.changed"]}, ["input", "url"], "INVALID"),
    ({"url": "http://192.0.0.8/hook", "events": ["site.changed"]}, ["input", "url"], "INVALID"),
    # IPv6 forms that carry a private IPv4 address (6to4, NAT64), and site-local IPv6.
    ({"url": "http://[2002:a9fe:a9fe::]/", "events": ["site.changed"]}, ["input", "url"], "INVALID"),
    ({"url": "http://[64:ff9b::7f00:1]/", "events": ["site.changed"]}, ["input", "url"], "INVALID"),
    ({"url": "http://[fec0::1]/", "events": ["site.changed"]}, ["input", "url"], "INVALID"),
    # IPv4-compatible and SIIT forms of 127.0.0.1.
    ({"url": "http://[::127.0.0.1]/", "events": ["site.changed"]}, ["input", "url"], "INVALID"),
    ({"url": "http://[::ffff:0:127.0.0.1]/", "events": ["site.changed"]}, ["input", "url"], "INVALID"),
    ({"url": "http://93.184.215.14:0/", "events": ["site.changed"]}, ["input", "url"], "INVALID"),
    # Full-width letters: not a host name that IDNA accepts.
    ({"url": f"http://{FULL_WIDTH_LOCALHOST}/", "events": ["site.changed"]}, ["input", "url"], "INVALID"),
    ({"url": "https://no-such-host.invalid/hook", "events": ["site.changed"]},
     ["input", "url"], "INVALID"),
]  # fmt: skip


@pytest.mark.parametrize(("input", "field", "code"), BAD_INPUTS)
async def test_bad_input_is_a_user_error_and_writes_nothing(
    client: httpx.AsyncClient,
    db: Database,
    as_staff: Any,
    input: dict[str, Any],
    field: list[str],
    code: str,
) -> None:
    _, headers = await as_staff(Role.OWNER)
    payload = await create(client, headers, input)
    assert payload["webhook"] is None
    assert payload["secret"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, code)]
    assert len(payload["userErrors"][0]["message"]) < 600
    assert await count_webhooks(db) == 0


async def test_nul_and_lone_surrogates_never_reach_the_database(
    client: httpx.AsyncClient, db: Database, as_staff: Any
) -> None:
    _, headers = await as_staff(Role.OWNER)
    for bad in ({"url": PUBLIC + "\x00", "events": ["site.changed"]},
                {"url": PUBLIC, "events": ["site.changed\x00"]},
                {"url": PUBLIC, "events": ["site.changed"], "description": "a\x00b"}):  # fmt: skip
        body = await graphql(client, CREATE, {"input": bad}, headers=headers)
        assert error_codes(body) == ["BAD_USER_INPUT"], body
    raw = '{"query": "mutation { createWebhook(input: {url: \\"https://93.184.215.14/\\", events: [\\"\\ud800\\"]}) { secret } }"}'
    response = await client.post(
        "/graphql", content=raw, headers={**headers, "content-type": "application/json"}
    )
    assert response.status_code in (200, 400)
    assert "secret" not in response.text or response.json().get("errors")
    assert await count_webhooks(db) == 0


@pytest.mark.parametrize(
    "settings",
    [{"env": "production", "graphiql": False, "introspection": False}],
    indirect=True,
)
async def test_plain_http_is_refused_in_production(
    client: httpx.AsyncClient, db: Database, as_staff: Any
) -> None:
    _, headers = await as_staff(Role.OWNER)
    payload = await create(
        client, headers, {"url": "http://93.184.215.14/hook", "events": ["site.changed"]}
    )
    assert payload["userErrors"][0]["field"] == ["input", "url"]
    assert "https" in payload["userErrors"][0]["message"]
    assert await count_webhooks(db) == 0


@pytest.mark.parametrize("settings", [{"webhook_allow_private": True}], indirect=True)
async def test_private_targets_when_allowed(
    client: httpx.AsyncClient, db: Database, as_staff: Any
) -> None:
    _, headers = await as_staff(Role.OWNER)
    payload = await create(
        client, headers, {"url": "http://127.0.0.1:9999/hook", "events": ["site.changed"]}
    )
    assert payload["userErrors"] == []
    assert await count_webhooks(db) == 1


async def test_update_refuses_bad_changes_and_keeps_the_webhook(
    client: httpx.AsyncClient, db: Database, as_staff: Any
) -> None:
    _, headers = await as_staff(Role.OWNER)
    created = (await create(client, headers, {"url": PUBLIC, "events": ["site.changed"]}))[
        "webhook"
    ]
    payload = (
        await graphql_data(
            client,
            UPDATE,
            {"input": {"id": created["id"], "url": "http://10.0.0.1/", "events": ["nope"]}},
            headers=headers,
        )
    )["updateWebhook"]
    assert [e["field"] for e in payload["userErrors"]] == [
        ["input", "url"],
        ["input", "events", "0"],
    ]
    listed = (await graphql_data(client, LIST, headers=headers))["webhooks"]["nodes"]
    assert listed == [{"id": created["id"], "url": PUBLIC, "events": ["site.changed"]}]


async def test_unknown_ids_and_empty_redelivery(
    client: httpx.AsyncClient, db: Database, as_staff: Any
) -> None:
    _, headers = await as_staff(Role.OWNER)
    missing = to_global_id("Webhook", 999)
    deleted = await graphql_data(client, DELETE, {"id": missing}, headers=headers)
    assert deleted["deleteWebhook"]["userErrors"] == [{"code": "NOT_FOUND"}]
    wrong_type = await graphql(client, DELETE, {"id": to_global_id("Post", 1)}, headers=headers)
    assert error_codes(wrong_type) == ["BAD_USER_INPUT"]
    nothing = await graphql_data(client, REDELIVER, {"input": {}}, headers=headers)
    assert nothing["redeliverWebhook"]["userErrors"][0]["code"] == "REQUIRED"
    unknown = await graphql_data(
        client,
        REDELIVER,
        {"input": {"deliveryId": to_global_id("WebhookDelivery", 5)}},
        headers=headers,
    )
    assert unknown["redeliverWebhook"]["userErrors"][0]["code"] == "NOT_FOUND"
    assert unknown["redeliverWebhook"]["userErrors"][0]["field"] == ["input", "deliveryId"]
    far = await graphql(
        client, REDELIVER, {"input": {"failedSince": "+10000-01-01T00:00:00Z"}}, headers=headers
    )
    assert error_codes(far) == ["BAD_USER_INPUT"]


LOG = """query($id: ID!) { node(id: $id) { ... on Webhook { deliveries(first: 50) {
  totalCount nodes { id eventId eventType payload attempts { statusCode } } } } } }"""
TEST = "mutation($id: ID!) { testWebhook(input: {id: $id}) { delivery { id } } }"


async def test_the_delivery_log_costs_the_same_statements_however_long(
    client: httpx.AsyncClient, as_staff: Any, sql: StatementCounter
) -> None:
    _, headers = await as_staff(Role.OWNER)
    id = (await create(client, headers, {"url": PUBLIC, "events": ["site.changed"]}))["webhook"][
        "id"
    ]
    counts = []
    for deliveries in (2, 12):
        while (
            len(
                (await graphql_data(client, LOG, {"id": id}, headers=headers))["node"][
                    "deliveries"
                ]["nodes"]
            )
            < deliveries
        ):
            await graphql_data(client, TEST, {"id": id}, headers=headers)
        sql.reset()
        log = await graphql_data(client, LOG, {"id": id}, headers=headers)
        assert len(log["node"]["deliveries"]["nodes"]) == deliveries
        counts.append(sql.count)
    # Events and attempts come by loader: one statement each, not one per delivery.
    assert counts[0] == counts[1]
