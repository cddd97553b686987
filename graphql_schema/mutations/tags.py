"""Tags: authors and up create them; editors and up change and delete them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from db.repositories.tag_writer import TagWriter
from graphql_schema.context import Info
from graphql_schema.ids import decode_id, to_global_id
from graphql_schema.inputs import as_utc
from graphql_schema.mutations.common import (
    UserError,
    in_transaction,
    provided,
    require_staff,
)
from graphql_schema.types.tag import Tag
from service import tags

FIELDS = ("name", "slug", "description", "feature_image", "meta_title", "meta_description")
What = strawberry.argument(description="What to do.")


@strawberry.input(description="A new tag; a name starting with '#' makes it internal.")
class CreateTagInput:
    name: str = strawberry.field(description="Display name (at most 191 characters).")
    slug: str | None = strawberry.field(
        default=strawberry.UNSET, description="URL slug; made from the name when omitted."
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="What the tag is about (500)."
    )
    feature_image: str | None = strawberry.field(default=strawberry.UNSET, description="Image URL.")
    meta_title: str | None = strawberry.field(
        default=strawberry.UNSET, description="Title for search engines."
    )
    meta_description: str | None = strawberry.field(
        default=strawberry.UNSET, description="Description for search engines."
    )


@strawberry.input(description="Changes to a tag; omitted fields stay as they are.")
class UpdateTagInput(CreateTagInput):
    id: strawberry.ID = strawberry.field(description="The tag.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Display name.")  # type: ignore[assignment]
    expected_updated_at: datetime | None = strawberry.field(
        default=None, description="The updatedAt you loaded; a later change makes this a CONFLICT."
    )


@strawberry.input(description="The tag to delete; posts keep everything else.")
class DeleteTagInput:
    id: strawberry.ID = strawberry.field(description="The tag.")


@strawberry.type(description="The result of createTag.")
class CreateTagPayload:
    tag: Tag | None = strawberry.field(description="The new tag.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="The result of updateTag.")
class UpdateTagPayload:
    tag: Tag | None = strawberry.field(description="The tag after the change.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="The result of deleteTag.")
class DeleteTagPayload:
    deleted_id: strawberry.ID | None = strawberry.field(description="Id of the deleted tag.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was deleted.")


def _tag(model: Any) -> Tag | None:
    return None if model is None else Tag.from_model(model)


@strawberry.type
class TagMutations:
    @strawberry.mutation(description="Create a tag (authors and up).")
    async def create_tag(
        self, info: Info, input: Annotated[CreateTagInput, What]
    ) -> CreateTagPayload:
        actor = require_staff(info)
        changes = provided(input, FIELDS)
        tag, errors = await in_transaction(
            info,
            lambda session: tags.create(TagWriter(session, info.context.scope), actor, changes),
        )
        return CreateTagPayload(tag=_tag(tag), user_errors=errors)

    @strawberry.mutation(description="Change a tag (editors and up).")
    async def update_tag(
        self, info: Info, input: Annotated[UpdateTagInput, What]
    ) -> UpdateTagPayload:
        actor = require_staff(info)
        id = decode_id(input.id, "Tag")
        changes = provided(input, FIELDS)
        expected = as_utc(input.expected_updated_at)
        tag, errors = await in_transaction(
            info,
            lambda session: tags.update(
                TagWriter(session, info.context.scope),
                actor,
                id,
                changes,
                expected_updated_at=expected,
            ),
        )
        return UpdateTagPayload(tag=_tag(tag), user_errors=errors)

    @strawberry.mutation(description="Delete a tag; it is removed from its posts (editors and up).")
    async def delete_tag(
        self, info: Info, input: Annotated[DeleteTagInput, What]
    ) -> DeleteTagPayload:
        actor = require_staff(info)
        id = decode_id(input.id, "Tag")
        _, errors = await in_transaction(
            info, lambda session: tags.delete(TagWriter(session, info.context.scope), actor, id)
        )
        deleted = None if errors else strawberry.ID(to_global_id("Tag", id))
        return DeleteTagPayload(deleted_id=deleted, user_errors=errors)
