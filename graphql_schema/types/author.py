"""Authors: the public profile of a staff user (never an email)."""

from __future__ import annotations

from typing import Annotated, Self

import strawberry

from db import models
from graphql_schema.arguments import After, First
from graphql_schema.context import Info
from graphql_schema.ids import to_global_id
from graphql_schema.inputs import PostFilter, PostOrder
from graphql_schema.types.connections import Connection
from graphql_schema.types.content import Post
from graphql_schema.types.nested_posts import posts_of
from graphql_schema.types.node import Node
from graphql_schema.types.stored import from_row


@strawberry.type(
    description="The public profile of someone who writes for the site. Readers see the "
    "authors credited on a post or page they can see."
)
class Author(Node):
    name: str = strawberry.field(description="Display name.")
    slug: str = strawberry.field(description="URL-safe identifier, unique.")
    bio: str | None = strawberry.field(description="A short biography.")
    profile_image: str | None = strawberry.field(description="URL of the portrait.")
    cover_image: str | None = strawberry.field(description="URL of the cover image.")
    website: str | None = strawberry.field(description="Personal website.")
    location: str | None = strawberry.field(description="Where the author is based.")
    db_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, user: models.User) -> Self:
        return from_row(cls, user, id=strawberry.ID(to_global_id("Author", user.id)), db_id=user.id)

    @strawberry.field(description="How many posts by this author the caller can see.")
    async def post_count(self, info: Info) -> int:
        loader = info.context.loaders.post_count_by_parent_id(models.PostAuthor)
        return await loader.load(self.db_id)

    @strawberry.field(description="Posts by this author that the caller can see, newest first.")
    async def posts(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        filter: Annotated[
            PostFilter | None, strawberry.argument(description="Narrow the posts.")
        ] = None,
        order_by: Annotated[
            list[PostOrder] | None, strawberry.argument(description="Order (default newest).")
        ] = None,
    ) -> Connection[Post]:
        return await posts_of(
            info,
            models.PostAuthor,
            self.db_id,
            first=first,
            after=after,
            filter=filter,
            order_by=order_by,
        )
