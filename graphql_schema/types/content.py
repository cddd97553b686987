"""Posts and pages: the Content interface they share, and the connection resolvers."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self, TypeVar

import strawberry

from db import models
from db.repositories import PostRepository
from graphql_schema.context import Info
from graphql_schema.ids import to_global_id
from graphql_schema.inputs import PostFilter, PostOrder, orders
from graphql_schema.types.connections import (
    Connection,
    build_connection,
    fetch,
    page_args,
    search_text,
)
from graphql_schema.types.enums import PostStatus
from graphql_schema.types.node import Node
from graphql_schema.types.stored import from_row
from service import policy
from service.site_settings import content_url

if TYPE_CHECKING:
    from graphql_schema.types.author import Author
    from graphql_schema.types.tag import Tag

AuthorType = Annotated["Author", strawberry.lazy("graphql_schema.types.author")]
TagType = Annotated["Tag", strawberry.lazy("graphql_schema.types.tag")]


@strawberry.type(description="A stored version of a post's or page's title and markdown.")
class Revision:
    id: strawberry.ID = strawberry.field(description="Opaque id of this revision.")
    title: str = strawberry.field(description="The title as it was.")
    markdown: str | None = strawberry.field(description="The markdown as it was.")
    created_at: datetime = strawberry.field(description="When this version was saved.")
    author_id: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, revision: models.PostRevision) -> Self:
        return cls(
            id=strawberry.ID(to_global_id("Revision", revision.id)),
            title=revision.title,
            markdown=revision.markdown,
            created_at=revision.created_at,
            author_id=revision.author_id,
        )

    @strawberry.field(description="Who saved this version.")
    async def author(self, info: Info) -> AuthorType | None:
        from graphql_schema.types.author import Author

        if self.author_id is None:
            return None
        user = await info.context.loaders.author_by_id.load(self.author_id)
        return None if user is None else Author.from_model(user)


@strawberry.interface(description="What posts and pages share: text, images, SEO, people, tags.")
class Content(Node):
    title: str = strawberry.field(description="The title.")
    slug: str = strawberry.field(description="URL-safe identifier, unique per type.")
    html: str | None = strawberry.field(description="The body as sanitised HTML.")
    plaintext: str | None = strawberry.field(description="The body as plain text.")
    feature_image: str | None = strawberry.field(description="URL of the main image.")
    feature_image_alt: str | None = strawberry.field(description="Alt text of the main image.")
    feature_image_caption: str | None = strawberry.field(
        description="Caption of the main image (HTML)."
    )
    featured: bool = strawberry.field(description="Highlighted by the editors.")
    reading_time: int = strawberry.field(description="Estimated minutes to read the body.")
    meta_title: str | None = strawberry.field(description="Title for search engines.")
    meta_description: str | None = strawberry.field(description="Description for search engines.")
    canonical_url: str | None = strawberry.field(description="Canonical URL, when set.")
    og_image: str | None = strawberry.field(description="Image for social sharing cards.")
    published_at: datetime | None = strawberry.field(
        description="When it was (or is scheduled to be) published; null for drafts."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it was last changed.")

    excerpt: str | None = strawberry.field(
        description="The custom excerpt, else the first ~300 characters of text."
    )  # worked out when the post is written (service.rendering.excerpt)

    db_id: strawberry.Private[int]
    row: strawberry.Private[models.Post]

    @classmethod
    def from_model(cls, post: models.Post) -> Self:
        global_id = strawberry.ID(to_global_id(cls.__name__, post.id))
        return from_row(cls, post, id=global_id, db_id=post.id, row=post)

    @strawberry.field(description="DRAFT, SCHEDULED or PUBLISHED (a due schedule reads PUBLISHED).")
    def status(self, info: Info) -> PostStatus:
        return self.row.status_at(info.context.scope.now)

    @strawberry.field(description="The markdown source; staff only, null for everyone else.")
    def markdown(self, info: Info) -> str | None:
        return self.row.markdown if policy.may_read_markdown(info.context.viewer) else None

    @strawberry.field(description="Saved versions, newest first; staff only, null for others.")
    async def revisions(self, info: Info) -> list[Revision] | None:
        if not policy.may_read_markdown(info.context.viewer):
            return None
        revisions = await info.context.loaders.revisions_by_post_id.load(self.db_id)
        return [Revision.from_model(revision) for revision in revisions]

    @strawberry.field(description="Absolute URL on the site: the site URL, then the slug.")
    async def url(self, info: Info) -> str:
        site = await info.context.loaders.site_settings.load(None)
        return content_url(site.url, self.slug)

    @strawberry.field(description="The authors, in order; the first is the primary author.")
    async def authors(self, info: Info) -> list[AuthorType]:
        from graphql_schema.types.author import Author

        users = await info.context.loaders.authors_by_post_id.load(self.db_id)
        return [Author.from_model(user) for user in users]

    @strawberry.field(description="The first author.")
    async def primary_author(self, info: Info) -> AuthorType | None:
        authors = await self.authors(info)
        return authors[0] if authors else None

    @strawberry.field(description="The tags the caller can see, in order.")
    async def tags(self, info: Info) -> list[TagType]:
        from graphql_schema.types.tag import Tag

        tags = await info.context.loaders.tags_by_post_id.load(self.db_id)
        return [Tag.from_model(tag) for tag, visible in tags if visible]

    @strawberry.field(
        description="The first tag, when the caller can see it (an internal first tag "
        "is never primary for readers, as in Ghost)."
    )
    async def primary_tag(self, info: Info) -> TagType | None:
        from graphql_schema.types.tag import Tag

        tags = await info.context.loaders.tags_by_post_id.load(self.db_id)
        if not tags or not tags[0][1]:
            return None
        return Tag.from_model(tags[0][0])


@strawberry.type(description="A dated article: the stream of a publication.")
class Post(Content):
    pass


@strawberry.type(description="A standalone page (About, Contact): not part of the post stream.")
class Page(Content):
    pass


ContentType = type[Post] | type[Page]
ContentT = TypeVar("ContentT", Post, Page)


def type_of(content: ContentType) -> models.PostType:
    return models.PostType.POST if content is Post else models.PostType.PAGE


async def content_connection(
    info: Info,
    content: type[ContentT],
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    filter: PostFilter | None,
    order_by: list[PostOrder] | None,
    search: str | None,
) -> Connection[ContentT]:
    """A root posts or pages connection: one statement for the page, one more for totalCount."""
    args = page_args(first, after, last, before)
    search = search_text(search)
    db_filter = None if filter is None else filter.to_filter(content.__name__)
    order = orders(order_by)
    context = info.context

    async with context.db.read_sessions() as session:
        repository = PostRepository(session, context.scope, type=type_of(content))
        page = await fetch(repository.page(args, filter=db_filter, order=order, search=search))

    async def count() -> int:
        async with context.db.read_sessions() as session:
            repository = PostRepository(session, context.scope, type=type_of(content))
            return await repository.count(filter=db_filter, search=search)

    return build_connection(page, content.from_model, count)
