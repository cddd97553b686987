"""Relay cursor connections: edges, nodes, pageInfo and a lazily counted totalCount."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import strawberry

from db.repositories import InvalidCursor, PageArgs, Slice
from db.repositories.pagination import InvalidPageArgs
from db.repositories.search import InvalidSearch, check_search
from graphql_schema.errors import bad_user_input

NodeT = TypeVar("NodeT")


@strawberry.type(description="Where a page of a connection sits in the whole list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether more items follow this page.")
    has_previous_page: bool = strawberry.field(
        description="Whether items precede this page (known when paginating with a cursor)."
    )
    start_cursor: str | None = strawberry.field(description="Cursor of the first item, if any.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last item, if any.")


@strawberry.type(description="One item of a connection with the cursor that points at it.")
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(description="Opaque cursor: pass it as `after` or `before`.")
    node: NodeT = strawberry.field(description="The item.")


@strawberry.type(description="A page of items, Relay-style, plus conveniences.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(description="The items with their cursors.")
    page_info: PageInfo = strawberry.field(description="Pagination state of this page.")
    counter: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="The items of this page, without cursors.")
    def nodes(self) -> list[NodeT]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="How many items match in all (counted only when selected).")
    async def total_count(self) -> int:
        return await self.counter()


def page_args(
    first: int | None, after: str | None, last: int | None = None, before: str | None = None
) -> PageArgs:
    try:
        return PageArgs(first=first, after=after, last=last, before=before)
    except InvalidPageArgs as error:
        raise bad_user_input(str(error)) from None


def search_text(search: str | None) -> str | None:
    """The `search` argument, refused as BAD_USER_INPUT when over the limits."""
    try:
        return None if search is None else check_search(search)
    except InvalidSearch as error:
        raise bad_user_input(str(error)) from None


async def fetch(page: Awaitable[Slice[Any]]) -> Slice[Any]:
    """Await a repository page, turning a bad cursor into a BAD_USER_INPUT error."""
    try:
        return await page
    except InvalidCursor as error:
        raise bad_user_input(f"Invalid cursor: {error}") from None


def build_connection(
    page: Slice[Any], convert: Callable[[Any], NodeT], counter: Callable[[], Awaitable[int]]
) -> Connection[NodeT]:
    edges = [Edge(cursor=cursor, node=convert(item)) for cursor, item in page.items]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        counter=counter,
    )
