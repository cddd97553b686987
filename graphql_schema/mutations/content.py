"""Posts and pages: create, update, delete, publish, unpublish, restore a revision."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.repositories.content_writer import ContentWriter
from db.repositories.users import StaffWriter
from graphql_schema.context import Info
from graphql_schema.ids import decode_id, parse_global_id, to_global_id
from graphql_schema.inputs import as_utc
from graphql_schema.mutations.common import (
    UserError,
    in_transaction,
    provided,
    require_staff,
)
from graphql_schema.types.content import Page, Post
from service import content
from service.content import Ref
from service.errors import InvalidInput

What = strawberry.argument(description="What to do.")


def _refs(values: list[str], type_names: tuple[str, ...]) -> list[Ref]:
    """Authors and tags may be named by global id or by slug."""
    refs = []
    for value in values:
        try:
            type_name, id = parse_global_id(value)
        except GraphQLError:
            refs.append(Ref(slug=value))
            continue
        refs.append(Ref(id=id) if type_name in type_names else Ref(slug=value))
    return refs


def changes_of(input: Any) -> dict[str, Any]:
    """The fields the client sent, with authors and tags as references."""
    changes = provided(input, content.FIELDS)
    if input.authors is not strawberry.UNSET and input.authors is not None:
        changes["authors"] = _refs(input.authors, ("Author", "StaffUser"))
    if input.tags is not strawberry.UNSET and input.tags is not None:
        changes["tags"] = _refs(input.tags, ("Tag",))
    return changes


@strawberry.input(description="A new post; it starts as a draft. Omitted fields stay empty.")
class CreatePostInput:
    title: str = strawberry.field(description="The title (at most 255 characters).")
    slug: str | None = strawberry.field(
        default=strawberry.UNSET, description="URL slug; made from the title when omitted."
    )
    markdown: str | None = strawberry.field(
        default=strawberry.UNSET, description="The body in Markdown."
    )
    custom_excerpt: str | None = strawberry.field(
        default=strawberry.UNSET, description="A hand-written excerpt (300)."
    )
    featured: bool | None = strawberry.field(default=strawberry.UNSET, description="Highlight it.")
    feature_image: str | None = strawberry.field(
        default=strawberry.UNSET, description="Main image URL."
    )
    feature_image_alt: str | None = strawberry.field(
        default=strawberry.UNSET, description="Alt text of the main image."
    )
    feature_image_caption: str | None = strawberry.field(
        default=strawberry.UNSET, description="Caption of the main image."
    )
    meta_title: str | None = strawberry.field(
        default=strawberry.UNSET, description="Title for search engines."
    )
    meta_description: str | None = strawberry.field(
        default=strawberry.UNSET, description="Description for search engines."
    )
    canonical_url: str | None = strawberry.field(
        default=strawberry.UNSET, description="Canonical URL."
    )
    og_image: str | None = strawberry.field(
        default=strawberry.UNSET, description="Social card image URL."
    )
    authors: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Authors by id or slug, in order; the first is primary. Default: you.",
    )
    tags: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Tags by id or slug, in order; the first is primary."
    )


@strawberry.input(description="A new page; it starts as a draft. Omitted fields stay empty.")
class CreatePageInput(CreatePostInput):
    pass


@strawberry.input(description="Changes to a post; omitted fields stay as they are.")
class UpdatePostInput(CreatePostInput):
    id: strawberry.ID = strawberry.field(description="The post.")
    title: str | None = strawberry.field(default=strawberry.UNSET, description="The title.")  # type: ignore[assignment]
    expected_updated_at: datetime | None = strawberry.field(
        default=None,
        description="The updatedAt you loaded: if the post changed since, nothing is written "
        "and a CONFLICT user error says so.",
    )


@strawberry.input(description="Changes to a page; omitted fields stay as they are.")
class UpdatePageInput(UpdatePostInput):
    pass


@strawberry.input(description="Publish now, at a past date, or schedule for a future one.")
class PublishPostInput:
    id: strawberry.ID = strawberry.field(description="The post or page.")
    published_at: datetime | None = strawberry.field(
        default=None, description="When; in the future it schedules. Default: now."
    )


@strawberry.input(description="Publish now, at a past date, or schedule for a future one.")
class PublishPageInput(PublishPostInput):
    pass


@strawberry.input(description="Return a post to draft.")
class UnpublishPostInput:
    id: strawberry.ID = strawberry.field(description="The post.")


@strawberry.input(description="Return a page to draft.")
class UnpublishPageInput(UnpublishPostInput):
    pass


@strawberry.input(description="The post to delete, with its links and revisions.")
class DeletePostInput:
    id: strawberry.ID = strawberry.field(description="The post.")


@strawberry.input(description="The page to delete, with its links and revisions.")
class DeletePageInput(DeletePostInput):
    pass


@strawberry.input(description="A revision to copy back as a new change.")
class RestorePostRevisionInput:
    revision_id: strawberry.ID = strawberry.field(description="The revision (from `revisions`).")


@strawberry.input(description="A revision to copy back as a new change.")
class RestorePageRevisionInput(RestorePostRevisionInput):
    pass


@strawberry.type(description="The result of createPost.")
class CreatePostPayload:
    post: Post | None = strawberry.field(description="The post after the change.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="The result of updatePost.")
class UpdatePostPayload:
    post: Post | None = strawberry.field(description="The post after the change.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="The result of publishPost.")
class PublishPostPayload:
    post: Post | None = strawberry.field(description="The post after the change.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="The result of unpublishPost.")
class UnpublishPostPayload:
    post: Post | None = strawberry.field(description="The post after the change.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="The result of restorePostRevision.")
class RestorePostRevisionPayload:
    post: Post | None = strawberry.field(description="The post after the change.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="The result of deletePost.")
class DeletePostPayload:
    deleted_id: strawberry.ID | None = strawberry.field(description="Id of the deleted post.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was deleted.")


@strawberry.type(description="The result of createPage.")
class CreatePagePayload:
    page: Page | None = strawberry.field(description="The page after the change.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="The result of updatePage.")
class UpdatePagePayload:
    page: Page | None = strawberry.field(description="The page after the change.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="The result of publishPage.")
class PublishPagePayload:
    page: Page | None = strawberry.field(description="The page after the change.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="The result of unpublishPage.")
class UnpublishPagePayload:
    page: Page | None = strawberry.field(description="The page after the change.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="The result of restorePageRevision.")
class RestorePageRevisionPayload:
    page: Page | None = strawberry.field(description="The page after the change.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="The result of deletePage.")
class DeletePagePayload:
    deleted_id: strawberry.ID | None = strawberry.field(description="Id of the deleted page.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was deleted.")


def _writer(info: Info, session: AsyncSession, type: models.PostType) -> ContentWriter:
    return ContentWriter(session, info.context.scope, type=type)


async def _default_author(info: Info, session: AsyncSession) -> int:
    """The caller, or the owner for an integration's API key."""
    viewer = info.context.viewer
    if viewer.user_id is not None:
        return viewer.user_id
    owner = await StaffWriter(session).owner()
    if owner is None:
        raise InvalidInput.one("The site has no owner yet.", field=["authors"])
    return owner.id


async def _create(info: Info, input: Any, type: models.PostType) -> tuple[Any, list[UserError]]:
    actor = require_staff(info)
    changes = changes_of(input)

    async def work(session: AsyncSession) -> models.Post:
        default_author = await _default_author(info, session)
        return await content.create(
            _writer(info, session, type), actor, changes, default_author=default_author
        )

    return await in_transaction(info, work)


async def _update(
    info: Info, input: Any, type: models.PostType, type_name: str
) -> tuple[Any, list[UserError]]:
    actor = require_staff(info)
    id = decode_id(input.id, type_name)
    changes = changes_of(input)
    expected = as_utc(input.expected_updated_at)
    return await in_transaction(
        info,
        lambda session: content.update(
            _writer(info, session, type), actor, id, changes, expected_updated_at=expected
        ),
    )


async def _delete(
    info: Info, input: Any, type: models.PostType, type_name: str
) -> tuple[str | None, list[UserError]]:
    actor = require_staff(info)
    id = decode_id(input.id, type_name)
    _, errors = await in_transaction(
        info, lambda session: content.delete(_writer(info, session, type), actor, id)
    )
    return (None if errors else to_global_id(type_name, id)), errors


async def _publish(
    info: Info, input: Any, type: models.PostType, type_name: str
) -> tuple[Any, list[UserError]]:
    actor = require_staff(info)
    id = decode_id(input.id, type_name)
    when = as_utc(input.published_at)
    return await in_transaction(
        info,
        lambda session: content.publish(_writer(info, session, type), actor, id, published_at=when),
    )


async def _unpublish(
    info: Info, input: Any, type: models.PostType, type_name: str
) -> tuple[Any, list[UserError]]:
    actor = require_staff(info)
    id = decode_id(input.id, type_name)
    return await in_transaction(
        info, lambda session: content.unpublish(_writer(info, session, type), actor, id)
    )


async def _restore(info: Info, input: Any, type: models.PostType) -> tuple[Any, list[UserError]]:
    actor = require_staff(info)
    revision_id = decode_id(input.revision_id, "Revision")
    return await in_transaction(
        info,
        lambda session: content.restore_revision(_writer(info, session, type), actor, revision_id),
    )


POST, PAGE = models.PostType.POST, models.PostType.PAGE


def _post(model: models.Post | None) -> Post | None:
    return None if model is None else Post.from_model(model)


def _page(model: models.Post | None) -> Page | None:
    return None if model is None else Page.from_model(model)


@strawberry.type
class ContentMutations:
    @strawberry.mutation(description="Create a draft post (any staff role).")
    async def create_post(
        self, info: Info, input: Annotated[CreatePostInput, What]
    ) -> CreatePostPayload:
        post, errors = await _create(info, input, POST)
        return CreatePostPayload(post=_post(post), user_errors=errors)

    @strawberry.mutation(
        description="Change a post (yours, or any as an editor); title and markdown changes "
        "keep a revision."
    )
    async def update_post(
        self, info: Info, input: Annotated[UpdatePostInput, What]
    ) -> UpdatePostPayload:
        post, errors = await _update(info, input, POST, "Post")
        return UpdatePostPayload(post=_post(post), user_errors=errors)

    @strawberry.mutation(description="Delete a post with its links and revisions.")
    async def delete_post(
        self, info: Info, input: Annotated[DeletePostInput, What]
    ) -> DeletePostPayload:
        deleted, errors = await _delete(info, input, POST, "Post")
        return DeletePostPayload(
            deleted_id=None if deleted is None else strawberry.ID(deleted), user_errors=errors
        )

    @strawberry.mutation(
        description="Publish a post now, backdate it, or schedule it (authors: their own; "
        "never contributors)."
    )
    async def publish_post(
        self, info: Info, input: Annotated[PublishPostInput, What]
    ) -> PublishPostPayload:
        post, errors = await _publish(info, input, POST, "Post")
        return PublishPostPayload(post=_post(post), user_errors=errors)

    @strawberry.mutation(description="Return a post to draft.")
    async def unpublish_post(
        self, info: Info, input: Annotated[UnpublishPostInput, What]
    ) -> UnpublishPostPayload:
        post, errors = await _unpublish(info, input, POST, "Post")
        return UnpublishPostPayload(post=_post(post), user_errors=errors)

    @strawberry.mutation(description="Copy a revision's title and markdown back into its post.")
    async def restore_post_revision(
        self, info: Info, input: Annotated[RestorePostRevisionInput, What]
    ) -> RestorePostRevisionPayload:
        post, errors = await _restore(info, input, POST)
        return RestorePostRevisionPayload(post=_post(post), user_errors=errors)

    @strawberry.mutation(description="Create a draft page (editors and up).")
    async def create_page(
        self, info: Info, input: Annotated[CreatePageInput, What]
    ) -> CreatePagePayload:
        page, errors = await _create(info, input, PAGE)
        return CreatePagePayload(page=_page(page), user_errors=errors)

    @strawberry.mutation(description="Change a page. Title and markdown changes keep a revision.")
    async def update_page(
        self, info: Info, input: Annotated[UpdatePageInput, What]
    ) -> UpdatePagePayload:
        page, errors = await _update(info, input, PAGE, "Page")
        return UpdatePagePayload(page=_page(page), user_errors=errors)

    @strawberry.mutation(description="Delete a page with its links and revisions.")
    async def delete_page(
        self, info: Info, input: Annotated[DeletePageInput, What]
    ) -> DeletePagePayload:
        deleted, errors = await _delete(info, input, PAGE, "Page")
        return DeletePagePayload(
            deleted_id=None if deleted is None else strawberry.ID(deleted), user_errors=errors
        )

    @strawberry.mutation(description="Publish a page now, backdate it, or schedule it.")
    async def publish_page(
        self, info: Info, input: Annotated[PublishPageInput, What]
    ) -> PublishPagePayload:
        page, errors = await _publish(info, input, PAGE, "Page")
        return PublishPagePayload(page=_page(page), user_errors=errors)

    @strawberry.mutation(description="Return a page to draft.")
    async def unpublish_page(
        self, info: Info, input: Annotated[UnpublishPageInput, What]
    ) -> UnpublishPagePayload:
        page, errors = await _unpublish(info, input, PAGE, "Page")
        return UnpublishPagePayload(page=_page(page), user_errors=errors)

    @strawberry.mutation(description="Copy a revision's title and markdown back into its page.")
    async def restore_page_revision(
        self, info: Info, input: Annotated[RestorePageRevisionInput, What]
    ) -> RestorePageRevisionPayload:
        page, errors = await _restore(info, input, PAGE)
        return RestorePageRevisionPayload(page=_page(page), user_errors=errors)
