"""The `posts` connection on tags and authors: batched across parents, one statement per query."""

from __future__ import annotations

from db.repositories.posts import Link
from graphql_schema.context import Info
from graphql_schema.inputs import PostFilter, PostOrder, orders
from graphql_schema.types.connections import Connection, build_connection, fetch, page_args
from graphql_schema.types.content import Post


async def posts_of(
    info: Info,
    parent: Link,
    parent_id: int,
    *,
    first: int | None,
    after: str | None,
    filter: PostFilter | None,
    order_by: list[PostOrder] | None,
) -> Connection[Post]:
    loaders = info.context.loaders
    db_filter = None if filter is None else filter.to_filter()
    query = (page_args(first, after), db_filter, orders(order_by))
    page = await fetch(loaders.posts_by_parent_id(parent, query).load(parent_id))

    async def count() -> int:
        return await loaders.post_count_by_parent_id(parent, db_filter).load(parent_id)

    return build_connection(page, Post.from_model, count)
