"""Webhooks (administrators only): create, update, delete, rotate the secret, send a test
event, redeliver."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from graphql_schema.context import Info
from graphql_schema.ids import decode_id
from graphql_schema.inputs import as_utc
from graphql_schema.mutations.common import UserError, in_transaction, require_staff
from graphql_schema.types.webhook import Webhook, WebhookDelivery
from service import webhooks
from service.policy import Viewer

What = strawberry.argument(description="What to do.")


@strawberry.input(description="A new webhook; its secret is in the payload, shown once.")
class CreateWebhookInput:
    url: str = strawberry.field(
        description="Where to POST events: https (http outside production), on a public "
        "address unless BROADSHEET_WEBHOOK_ALLOW_PRIVATE is set."
    )
    events: list[str] = strawberry.field(
        description="Event types to receive, e.g. ['post.published', 'site.changed']."
    )
    description: str | None = strawberry.field(default=None, description="What it is for.")


@strawberry.input(description="Changes to a webhook; omitted fields stay as they are.")
class UpdateWebhookInput:
    id: strawberry.ID = strawberry.field(description="The webhook.")
    url: str | None = strawberry.field(default=strawberry.UNSET, description="A new URL.")
    events: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="The event types to receive instead."
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="What it is for (null clears it)."
    )
    enabled: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Switch it off, or back on (which clears the reason it was disabled).",
    )


@strawberry.input(description="The webhook to delete, with its delivery log.")
class DeleteWebhookInput:
    id: strawberry.ID = strawberry.field(description="The webhook.")


@strawberry.input(description="The webhook whose secret to replace.")
class RotateWebhookSecretInput:
    id: strawberry.ID = strawberry.field(description="The webhook.")


@strawberry.input(description="The webhook to send a webhook.test event to.")
class TestWebhookInput:
    id: strawberry.ID = strawberry.field(description="The webhook.")


@strawberry.input(
    description="What to send again: one delivery, or the failed deliveries of a webhook "
    "(or of all webhooks) since a time."
)
class RedeliverWebhookInput:
    delivery_id: strawberry.ID | None = strawberry.field(
        default=None, description="One delivery, whatever came of it (same webhook-id)."
    )
    webhook_id: strawberry.ID | None = strawberry.field(
        default=None, description="Every failed delivery of this webhook."
    )
    failed_since: datetime | None = strawberry.field(
        default=None, description="Only deliveries that failed at or after this time."
    )


@strawberry.type(description="The result of createWebhook: the secret is shown this once.")
class CreateWebhookPayload:
    webhook: Webhook | None = strawberry.field(description="The new webhook.")
    secret: str | None = strawberry.field(
        description="The signing secret (whsec_…): verify `webhook-signature` with it."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="The result of updateWebhook.")
class UpdateWebhookPayload:
    webhook: Webhook | None = strawberry.field(description="The webhook after the change.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="The result of deleteWebhook.")
class DeleteWebhookPayload:
    deleted_id: strawberry.ID | None = strawberry.field(description="Id of the deleted webhook.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was deleted.")


@strawberry.type(description="The result of rotateWebhookSecret: the new secret, shown once.")
class RotateWebhookSecretPayload:
    webhook: Webhook | None = strawberry.field(description="The webhook.")
    secret: str | None = strawberry.field(
        description="The new secret. The old one also signs until `secretRotatedUntil`."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="The result of testWebhook.")
class TestWebhookPayload:
    delivery: WebhookDelivery | None = strawberry.field(
        description="The test event's delivery: follow it in the webhook's deliveries."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing was sent.")


@strawberry.type(description="The result of redeliverWebhook.")
class RedeliverWebhookPayload:
    deliveries: list[WebhookDelivery] = strawberry.field(
        description="The deliveries set going again (PENDING)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing was resent.")


def _administrator(info: Info) -> Viewer:
    actor = require_staff(info)
    webhooks.check_may_manage(actor)
    return actor


def _given(value: object) -> bool:
    return value is not strawberry.UNSET


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(description="Create a webhook (administrators).")
    async def create_webhook(
        self, info: Info, input: Annotated[CreateWebhookInput, What]
    ) -> CreateWebhookPayload:
        _administrator(info)
        rules = info.context.webhook_rules
        created, errors = await in_transaction(
            info,
            lambda session: webhooks.create(
                session,
                url=input.url,
                event_names=input.events,
                description=input.description,
                rules=rules,
            ),
        )
        if created is None:
            return CreateWebhookPayload(webhook=None, secret=None, user_errors=errors)
        webhook, secret = created
        return CreateWebhookPayload(
            webhook=Webhook.from_model(webhook), secret=secret, user_errors=[]
        )

    @strawberry.mutation(description="Change a webhook, or switch it off or on (administrators).")
    async def update_webhook(
        self, info: Info, input: Annotated[UpdateWebhookInput, What]
    ) -> UpdateWebhookPayload:
        _administrator(info)
        id = decode_id(input.id, "Webhook")
        rules = info.context.webhook_rules
        webhook, errors = await in_transaction(
            info,
            lambda session: webhooks.update(
                session,
                id,
                url=input.url if _given(input.url) else None,
                event_names=input.events if _given(input.events) else None,
                description=input.description if _given(input.description) else None,
                clear_description=_given(input.description) and input.description is None,
                enabled=input.enabled if _given(input.enabled) else None,
                rules=rules,
            ),
        )
        return UpdateWebhookPayload(
            webhook=None if webhook is None else Webhook.from_model(webhook), user_errors=errors
        )

    @strawberry.mutation(description="Delete a webhook and its delivery log (administrators).")
    async def delete_webhook(
        self, info: Info, input: Annotated[DeleteWebhookInput, What]
    ) -> DeleteWebhookPayload:
        _administrator(info)
        id = decode_id(input.id, "Webhook")
        _, errors = await in_transaction(info, lambda session: webhooks.delete(session, id))
        return DeleteWebhookPayload(deleted_id=None if errors else input.id, user_errors=errors)

    @strawberry.mutation(
        description="Replace a webhook's secret; the old one keeps signing (a second "
        "signature) for a day, so the receiver can switch over (administrators)."
    )
    async def rotate_webhook_secret(
        self, info: Info, input: Annotated[RotateWebhookSecretInput, What]
    ) -> RotateWebhookSecretPayload:
        _administrator(info)
        id = decode_id(input.id, "Webhook")
        rules = info.context.webhook_rules
        rotated, errors = await in_transaction(
            info, lambda session: webhooks.rotate_secret(session, id, rules=rules)
        )
        if rotated is None:
            return RotateWebhookSecretPayload(webhook=None, secret=None, user_errors=errors)
        webhook, secret = rotated
        return RotateWebhookSecretPayload(
            webhook=Webhook.from_model(webhook), secret=secret, user_errors=[]
        )

    @strawberry.mutation(description="Send a webhook.test event to one webhook (administrators).")
    async def test_webhook(
        self, info: Info, input: Annotated[TestWebhookInput, What]
    ) -> TestWebhookPayload:
        _administrator(info)
        id = decode_id(input.id, "Webhook")
        sent, errors = await in_transaction(info, lambda session: webhooks.send_test(session, id))
        return TestWebhookPayload(
            delivery=None if sent is None else WebhookDelivery.from_model(sent),
            user_errors=errors,
        )

    @strawberry.mutation(
        description="Send again: one delivery, or the failed ones of a webhook or since a time, "
        "at most 1,000 at once, oldest first (administrators). The webhook-id stays the same, "
        "so receivers can deduplicate."
    )
    async def redeliver_webhook(
        self, info: Info, input: Annotated[RedeliverWebhookInput, What]
    ) -> RedeliverWebhookPayload:
        _administrator(info)
        delivery_id = (
            None if input.delivery_id is None else decode_id(input.delivery_id, "WebhookDelivery")
        )
        webhook_id = None if input.webhook_id is None else decode_id(input.webhook_id, "Webhook")
        since = as_utc(input.failed_since)
        resent, errors = await in_transaction(
            info,
            lambda session: webhooks.redeliver(
                session, delivery_id=delivery_id, webhook_id=webhook_id, failed_since=since
            ),
        )
        return RedeliverWebhookPayload(
            deliveries=[WebhookDelivery.from_model(d) for d in resent or []], user_errors=errors
        )
