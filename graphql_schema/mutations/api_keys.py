"""API keys for frontends and integrations (administrators only)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from graphql_schema.context import Info
from graphql_schema.ids import decode_id
from graphql_schema.mutations.common import UserError, in_transaction, require_staff
from graphql_schema.types.api_key import ApiKey, ApiKeyScope
from service import api_keys


@strawberry.input(description="A new API key.")
class CreateApiKeyInput:
    name: str = strawberry.field(description="What the key is for, e.g. 'Next.js site'.")
    scope: ApiKeyScope = strawberry.field(description="CONTENT (read) or ADMIN.")


@strawberry.input(description="The API key to revoke.")
class RevokeApiKeyInput:
    id: strawberry.ID = strawberry.field(description="The ApiKey id.")


@strawberry.type(description="The result of createApiKey: the secret is shown this once.")
class CreateApiKeyPayload:
    api_key: ApiKey | None = strawberry.field(description="The new key.")
    secret: str | None = strawberry.field(description="Send as X-Api-Key; not shown again.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="The result of revokeApiKey.")
class RevokeApiKeyPayload:
    api_key: ApiKey | None = strawberry.field(description="The revoked key.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was changed.")


@strawberry.type
class ApiKeyMutations:
    @strawberry.mutation(description="Create an API key (administrators).")
    async def create_api_key(
        self,
        info: Info,
        input: Annotated[CreateApiKeyInput, strawberry.argument(description="What to do.")],
    ) -> CreateApiKeyPayload:
        actor = require_staff(info)
        api_keys.check_may_manage(actor)
        created, errors = await in_transaction(
            info,
            lambda session: api_keys.create(session, actor, name=input.name, scope=input.scope),
        )
        if created is None:
            return CreateApiKeyPayload(api_key=None, secret=None, user_errors=errors)
        key, secret = created
        return CreateApiKeyPayload(api_key=ApiKey.from_model(key), secret=secret, user_errors=[])

    @strawberry.mutation(
        description="Revoke an API key (administrators); it stops working at once."
    )
    async def revoke_api_key(
        self,
        info: Info,
        input: Annotated[RevokeApiKeyInput, strawberry.argument(description="What to do.")],
    ) -> RevokeApiKeyPayload:
        api_keys.check_may_manage(require_staff(info))
        key_id = decode_id(input.id, "ApiKey")
        key, errors = await in_transaction(info, lambda session: api_keys.revoke(session, key_id))
        return RevokeApiKeyPayload(
            api_key=None if key is None else ApiKey.from_model(key), user_errors=errors
        )
