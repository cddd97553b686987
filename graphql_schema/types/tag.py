"""Tags."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

import strawberry

from db import models
from graphql_schema.arguments import After, First
from graphql_schema.context import Info
from graphql_schema.ids import to_global_id
from graphql_schema.inputs import PostFilter, PostOrder
from graphql_schema.types.connections import Connection
from graphql_schema.types.content import Post
from graphql_schema.types.enums import TagVisibility
from graphql_schema.types.nested_posts import posts_of
from graphql_schema.types.node import Node
from graphql_schema.types.stored import from_row


@strawberry.type(description="A topic that groups posts. Internal tags start with '#'.")
class Tag(Node):
    name: str = strawberry.field(description="Display name.")
    slug: str = strawberry.field(description="URL-safe identifier, unique.")
    description: str | None = strawberry.field(description="What the tag is about.")
    feature_image: str | None = strawberry.field(description="URL of the tag's image.")
    visibility: TagVisibility = strawberry.field(description="PUBLIC or INTERNAL.")
    meta_title: str | None = strawberry.field(description="Title for search engines.")
    meta_description: str | None = strawberry.field(description="Description for search engines.")
    created_at: datetime = strawberry.field(description="When the tag was created.")
    updated_at: datetime = strawberry.field(
        description="When the tag was last changed (pass it as expectedUpdatedAt)."
    )
    db_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, tag: models.Tag) -> Self:
        return from_row(cls, tag, id=strawberry.ID(to_global_id("Tag", tag.id)), db_id=tag.id)

    @strawberry.field(description="How many posts with this tag the caller can see.")
    async def post_count(self, info: Info) -> int:
        return await info.context.loaders.post_count_by_parent_id(models.PostTag).load(self.db_id)

    @strawberry.field(description="Posts with this tag that the caller can see, newest first.")
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
            models.PostTag,
            self.db_id,
            first=first,
            after=after,
            filter=filter,
            order_by=order_by,
        )
