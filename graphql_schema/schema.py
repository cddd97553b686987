"""The Strawberry schema and its router."""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.fastapi import GraphQLRouter

from db.engine import Database
from graphql_schema.context import Context
from graphql_schema.queries import Query
from graphql_schema.types.content import Page, Post
from graphql_schema.types.tag import Tag
from graphql_schema.types.user import StaffUser
from service.policy import ANONYMOUS

log = logging.getLogger(__name__)


class MaskUnexpectedErrors(MaskErrors):
    """Hide the text of unexpected exceptions; keep parse, validation and our own errors."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=self._is_unexpected, error_message="Internal error.")

    @staticmethod
    def _is_unexpected(error: GraphQLError) -> bool:
        original = error.original_error
        return original is not None and not isinstance(original, GraphQLError)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        log.error("unexpected error in %s", error.path, exc_info=error.original_error)
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked


schema = strawberry.Schema(
    query=Query,
    types=[Post, Page, Tag, StaffUser],
    extensions=[MaskUnexpectedErrors],
)


def graphql_router(db: Database, *, graphiql: bool) -> GraphQLRouter[Context, None]:
    async def get_context() -> Context:
        return Context(viewer=ANONYMOUS, db=db)

    return GraphQLRouter(
        schema,
        context_getter=get_context,
        graphql_ide="graphiql" if graphiql else None,
    )
