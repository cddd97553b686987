"""The root Query: lookups by id or slug, connections, settings, and the viewer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Protocol, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from db import models
from db.repositories import (
    AuthorRepository,
    PageArgs,
    PostRepository,
    TagRepository,
    UserRepository,
    pagination,
)
from db.repositories.credentials import ApiKeyRepository
from db.repositories.media import MediaRepository
from db.repositories.scope import Scope
from db.repositories.webhooks import WebhookRepository
from graphql_schema import answer_tags
from graphql_schema.arguments import After, Before, First, Last, Search
from graphql_schema.context import Info
from graphql_schema.errors import bad_user_input
from graphql_schema.ids import decode_id, parse_global_id
from graphql_schema.inputs import (
    AuthorFilter,
    AuthorOrder,
    MediaFilter,
    MediaOrder,
    PostFilter,
    PostOrder,
    TagFilter,
    TagOrder,
    UserFilter,
    orders,
)
from graphql_schema.types.api_key import ApiKey
from graphql_schema.types.author import Author
from graphql_schema.types.connections import (
    Connection,
    NodeT,
    build_connection,
    fetch,
    page_args,
)
from graphql_schema.types.content import ContentT, Page, Post, content_connection, type_of
from graphql_schema.types.media import Media
from graphql_schema.types.node import Node
from graphql_schema.types.site_settings import Settings
from graphql_schema.types.tag import Tag
from graphql_schema.types.user import StaffUser
from graphql_schema.types.webhook import Webhook, WebhookDelivery
from service import policy
from service.errors import Forbidden, Unauthenticated

MAX_NODES = 100

IdArg = Annotated[strawberry.ID | None, strawberry.argument(description="Global id.")]
SlugArg = Annotated[str | None, strawberry.argument(description="Slug.")]
PreviewTokenArg = Annotated[
    str | None,
    strawberry.argument(
        description="A preview token from `createPreviewToken`: returns that draft to anyone."
    ),
]
PostFilterArg = Annotated[PostFilter | None, strawberry.argument(description="Narrow the list.")]
PostOrderArg = Annotated[
    list[PostOrder] | None,
    strawberry.argument(description="Order terms, applied in turn (default: newest first)."),
]


def _id_or_slug(id: strawberry.ID | None, slug: str | None) -> None:
    if (id is None) == (slug is None):
        raise bad_user_input("Pass exactly one of `id` and `slug`.")


NODE_TYPES: dict[str, Any] = {"Post": Post, "Page": Page, "Tag": Tag, "Author": Author}


def _start_load(info: Info, type_name: str, id: int) -> Awaitable[Any] | None:
    """Ask the loader for one node without awaiting it: loads started together batch."""
    loaders = info.context.loaders
    by_type: dict[str, DataLoader[int, Any]] = {
        "Post": loaders.post_by_id,
        "Page": loaders.page_by_id,
        "Tag": loaders.tag_by_id,
        "Author": loaders.author_by_id,
    }
    loader = by_type.get(type_name)
    return None if loader is None else loader.load(id)


async def _finish_load(
    info: Info, type_name: str, id: int, pending: Awaitable[Any] | None
) -> Node | None:
    if pending is not None:
        model = await pending
        return None if model is None else NODE_TYPES[type_name].from_model(model)
    viewer = info.context.viewer
    if type_name in ("Webhook", "WebhookDelivery") and policy.may_manage_webhooks(viewer):
        async with info.context.db.read_sessions() as session:
            repository = WebhookRepository(session)
            if type_name == "Webhook":
                webhook = await repository.get(id)
                return None if webhook is None else Webhook.from_model(webhook)
            delivery = await repository.delivery(id)
            return None if delivery is None else WebhookDelivery.from_model(delivery)
    if type_name == "Media" and viewer.is_staff:
        async with info.context.db.read_sessions() as session:
            media = await MediaRepository(session).get(id)
        return None if media is None else Media.from_model(media)
    if type_name != "StaffUser" or not policy.may_read_staff(viewer):
        return None
    async with info.context.db.read_sessions() as session:
        user = await UserRepository(session).get(id)
    return None if user is None else StaffUser.from_model(user)


@strawberry.type(description="Everything a frontend can read.")
class Query:
    @strawberry.field(description="Any object by its global id; null when it cannot be seen.")
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global id.")],
    ) -> Node | None:
        type_name, db_id = parse_global_id(id)
        answer_tags.found(type_name, db_id)  # by its id: found or not, a change purges it
        return await _finish_load(info, type_name, db_id, _start_load(info, type_name, db_id))

    @strawberry.field(description="Objects by global id, in the order asked; null where unseen.")
    async def nodes(
        self,
        info: Info,
        ids: Annotated[list[strawberry.ID], strawberry.argument(description="Global ids.")],
    ) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise bad_user_input(f"Ask for at most {MAX_NODES} ids at once.")
        # Every id is checked before any load starts; all loads start before any is awaited,
        # so each type's loader fetches its ids in one statement (and no task is left behind).
        parsed = [parse_global_id(id) for id in ids]
        for type_name, db_id in parsed:
            answer_tags.found(type_name, db_id)
        pending = [_start_load(info, type_name, id) for type_name, id in parsed]
        return [
            await _finish_load(info, type_name, id, load)
            for (type_name, id), load in zip(parsed, pending, strict=True)
        ]

    @strawberry.field(description="One post by id or slug (or a draft by preview token).")
    async def post(
        self,
        info: Info,
        id: IdArg = None,
        slug: SlugArg = None,
        preview_token: PreviewTokenArg = None,
    ) -> Post | None:
        if preview_token is not None:
            return await _preview(info, Post, preview_token)
        _id_or_slug(id, slug)
        return await _content(info, Post, id=id, slug=slug)

    @strawberry.field(description="One page by id or slug (or a draft by preview token).")
    async def page(
        self,
        info: Info,
        id: IdArg = None,
        slug: SlugArg = None,
        preview_token: PreviewTokenArg = None,
    ) -> Page | None:
        if preview_token is not None:
            return await _preview(info, Page, preview_token)
        _id_or_slug(id, slug)
        return await _content(info, Page, id=id, slug=slug)

    @strawberry.field(description="Posts the caller can see; newest first unless ordered.")
    async def posts(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: PostFilterArg = None,
        order_by: PostOrderArg = None,
        search: Search = None,
    ) -> Connection[Post]:
        return await content_connection(
            info,
            Post,
            first=first,
            after=after,
            last=last,
            before=before,
            filter=filter,
            order_by=order_by,
            search=search,
        )

    @strawberry.field(description="Pages the caller can see; newest first unless ordered.")
    async def pages(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: PostFilterArg = None,
        order_by: PostOrderArg = None,
        search: Search = None,
    ) -> Connection[Page]:
        return await content_connection(
            info,
            Page,
            first=first,
            after=after,
            last=last,
            before=before,
            filter=filter,
            order_by=order_by,
            search=search,
        )

    @strawberry.field(description="One tag by id or slug.")
    async def tag(self, info: Info, id: IdArg = None, slug: SlugArg = None) -> Tag | None:
        tag = await _one(info, TagRepository, "Tag", id=id, slug=slug)
        return None if tag is None else Tag.from_model(tag)

    @strawberry.field(description="Tags the caller can see; by name unless ordered.")
    async def tags(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: Annotated[TagFilter | None, strawberry.argument(description="Narrow.")] = None,
        order_by: Annotated[
            list[TagOrder] | None, strawberry.argument(description="Order (default by name).")
        ] = None,
    ) -> Connection[Tag]:
        return await _listed(
            info,
            TagRepository,
            Tag.from_model,
            page_args(first, after, last, before),
            filter=None if filter is None else filter.to_filter(),
            order=orders(order_by),
        )

    @strawberry.field(description="One author by id or slug.")
    async def author(self, info: Info, id: IdArg = None, slug: SlugArg = None) -> Author | None:
        user = await _one(info, AuthorRepository, "Author", id=id, slug=slug)
        return None if user is None else Author.from_model(user)

    @strawberry.field(description="Authors the caller can see; by name unless ordered.")
    async def authors(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: Annotated[AuthorFilter | None, strawberry.argument(description="Narrow.")] = None,
        order_by: Annotated[
            list[AuthorOrder] | None, strawberry.argument(description="Order (default by name).")
        ] = None,
    ) -> Connection[Author]:
        return await _listed(
            info,
            AuthorRepository,
            Author.from_model,
            page_args(first, after, last, before),
            filter=None if filter is None else filter.to_filter(),
            order=orders(order_by),
        )

    @strawberry.field(description="The site's settings.")
    async def settings(self, info: Info) -> Settings:
        return Settings.from_model(await info.context.loaders.site_settings.load(None))

    @strawberry.field(description="The signed-in staff user; null for anonymous callers.")
    async def viewer(self, info: Info) -> StaffUser | None:
        viewer = info.context.viewer
        if viewer.user_id is None:
            return None
        async with info.context.db.read_sessions() as session:
            user = await UserRepository(session).get(viewer.user_id)
        return None if user is None else StaffUser.from_model(user)

    @strawberry.field(description="API keys, newest last (administrators only).")
    async def api_keys(self, info: Info) -> list[ApiKey]:
        viewer = info.context.viewer
        if not viewer.is_staff:
            raise Unauthenticated("Sign in as an administrator to list API keys.")
        if not policy.may_manage_api_keys(viewer):
            raise Forbidden("Only administrators manage API keys.")
        async with info.context.db.read_sessions() as session:
            keys = await ApiKeyRepository(session).all()
        return [ApiKey.from_model(key) for key in keys]

    @strawberry.field(description="The media library, newest first (staff only).")
    async def media(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        filter: Annotated[MediaFilter | None, strawberry.argument(description="Narrow.")] = None,
        order_by: Annotated[
            list[MediaOrder] | None,
            strawberry.argument(description="Order (default newest first)."),
        ] = None,
    ) -> Connection[Media]:
        if not info.context.viewer.is_staff:
            raise Unauthenticated("Sign in as staff to see the media library.")
        args = page_args(first, after)
        wanted = None if filter is None else filter.to_filter()
        db = info.context.db
        async with db.read_sessions() as session:
            page = await fetch(MediaRepository(session).page(args, wanted, orders(order_by)))

        async def count() -> int:
            async with db.read_sessions() as session:
                return await MediaRepository(session).count(wanted)

        return build_connection(page, Media.from_model, count)

    @strawberry.field(description="Webhooks, oldest first (administrators only).")
    async def webhooks(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Webhook]:
        viewer = info.context.viewer
        if not viewer.is_staff:
            raise Unauthenticated("Sign in as an administrator to list webhooks.")
        if not policy.may_manage_webhooks(viewer):
            raise Forbidden("Only administrators manage webhooks.")
        args = page_args(first, after)
        db = info.context.db
        async with db.read_sessions() as session:
            page = await fetch(WebhookRepository(session).page(args))

        async def count() -> int:
            async with db.read_sessions() as session:
                return await WebhookRepository(session).count()

        return build_connection(page, Webhook.from_model, count)

    @strawberry.field(description="Staff accounts (staff only).")
    async def users(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        filter: Annotated[UserFilter | None, strawberry.argument(description="Narrow.")] = None,
    ) -> Connection[StaffUser]:
        if not policy.may_read_staff(info.context.viewer):
            raise Unauthenticated("Sign in as staff to list users.")
        args = page_args(first, after)
        db_filter = None if filter is None else filter.to_filter()
        context = info.context
        async with context.db.read_sessions() as session:
            page = await fetch(UserRepository(session).page(args, filter=db_filter))

        async def count() -> int:
            async with context.db.read_sessions() as session:
                return await UserRepository(session).count(filter=db_filter)

        return build_connection(page, StaffUser.from_model, count)


# Tags and authors are read alike: by id or slug, or as a filtered, ordered connection, each
# within what the caller may see (the repository's scope).
ModelT = TypeVar("ModelT", models.Tag, models.User)


class _Listing(Protocol[ModelT]):
    async def get(self, *, id: int | None = None, slug: str | None = None) -> ModelT | None: ...
    async def page(
        self, args: PageArgs, *, filter: Any, order: Any
    ) -> pagination.Slice[ModelT]: ...
    async def count(self, *, filter: Any) -> int: ...


async def _one(
    info: Info,
    repository: Callable[[AsyncSession, Scope], _Listing[ModelT]],
    type_name: str,
    *,
    id: strawberry.ID | None,
    slug: str | None,
) -> ModelT | None:
    _id_or_slug(id, slug)
    async with info.context.db.read_sessions() as session:
        found = await repository(session, info.context.scope).get(
            id=_maybe_id(id, type_name), slug=slug
        )
    answer_tags.found(type_name, None if found is None else found.id)
    return found


async def _listed(
    info: Info,
    repository: Callable[[AsyncSession, Scope], _Listing[ModelT]],
    convert: Callable[[ModelT], NodeT],
    args: PageArgs,
    *,
    filter: Any,
    order: Any,
) -> Connection[NodeT]:
    context = info.context
    async with context.db.read_sessions() as session:
        page = await fetch(
            repository(session, context.scope).page(args, filter=filter, order=order)
        )

    async def count() -> int:
        async with context.db.read_sessions() as session:
            return await repository(session, context.scope).count(filter=filter)

    return build_connection(page, convert, count)


def _maybe_id(id: strawberry.ID | None, type_name: str) -> int | None:
    return None if id is None else decode_id(id, type_name)


async def _content(
    info: Info, content: type[ContentT], *, id: strawberry.ID | None, slug: str | None
) -> ContentT | None:
    async with info.context.db.read_sessions() as session:
        repository = PostRepository(session, info.context.scope, type=type_of(content))
        post = await repository.get(id=_maybe_id(id, content.__name__), slug=slug)
    answer_tags.found(content.__name__, None if post is None else post.id)
    return None if post is None else content.from_model(post)


async def _preview(info: Info, content: type[ContentT], token: str) -> ContentT | None:
    """The one object a valid preview token names, whatever its status; else null."""
    # A draft: no event purges it from a shared cache (no reader saw it), so none may keep it.
    answer_tags.private()
    id = info.context.preview.read(token, type_name=content.__name__)
    if id is None:
        return None
    scope = policy.preview_scope(info.context.scope, post_id=id)
    async with info.context.db.read_sessions() as session:
        post = await PostRepository(session, scope, type=type_of(content)).get(id=id)
    return None if post is None else content.from_model(post)
