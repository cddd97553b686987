"""Preview tokens for a site's draft mode."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from db import models
from db.repositories import PostRepository
from graphql_schema.context import Info
from graphql_schema.ids import parse_global_id
from graphql_schema.mutations.common import UserError, UserErrorCode, require_staff


@strawberry.input(description="The post or page to preview.")
class CreatePreviewTokenInput:
    id: strawberry.ID = strawberry.field(description="A Post or Page id.")


@strawberry.type(description="The result of createPreviewToken.")
class CreatePreviewTokenPayload:
    token: str | None = strawberry.field(
        description="Pass as `post(previewToken:)` or `page(previewToken:)`; anyone holding it "
        "can read that one object until it expires."
    )
    expires_at: datetime | None = strawberry.field(description="When the token stops working.")
    user_errors: list[UserError] = strawberry.field(description="Why no token was made.")


@strawberry.type
class PreviewMutations:
    @strawberry.mutation(
        description="A signed token to preview one post or page (staff who can read it)."
    )
    async def create_preview_token(
        self,
        info: Info,
        input: Annotated[CreatePreviewTokenInput, strawberry.argument(description="What to do.")],
    ) -> CreatePreviewTokenPayload:
        require_staff(info)
        type_name, id = parse_global_id(input.id)
        not_found = CreatePreviewTokenPayload(
            token=None,
            expires_at=None,
            user_errors=[
                UserError(field=["input", "id"], message="Not found.", code=UserErrorCode.NOT_FOUND)
            ],
        )
        if type_name not in ("Post", "Page"):
            return not_found
        type = models.PostType.POST if type_name == "Post" else models.PostType.PAGE
        async with info.context.db.read_sessions() as session:
            post = await PostRepository(session, info.context.scope, type=type).get(id=id)
        if post is None:
            return not_found
        token, expires_at = info.context.preview.issue(type_name=type_name, id=id)
        return CreatePreviewTokenPayload(token=token, expires_at=expires_at, user_errors=[])
