"""The Strawberry schema and its router."""

from __future__ import annotations

import logging

import strawberry
from fastapi import HTTPException, Request
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.fastapi import GraphQLRouter

from db.engine import Database
from graphql_schema.context import Context
from graphql_schema.mutations.root import Mutation
from graphql_schema.queries import Query
from graphql_schema.types.content import Page, Post
from graphql_schema.types.tag import Tag
from graphql_schema.types.user import StaffUser
from service.auth import Authenticator
from service.errors import Forbidden, NotFound, Unauthenticated
from service.preview import PreviewSigner

log = logging.getLogger(__name__)

# Domain exceptions that reach GraphQL as errors with a code (their message is for clients).
EXPECTED_ERRORS: dict[type[Exception], str] = {
    Unauthenticated: "UNAUTHENTICATED",
    Forbidden: "FORBIDDEN",
    NotFound: "NOT_FOUND",
}


class ErrorPolicy(MaskErrors):
    """Give domain errors their code; hide the text of anything unexpected."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=self._raised, error_message="Internal error.")

    @staticmethod
    def _raised(error: GraphQLError) -> bool:
        original = error.original_error
        return original is not None and not isinstance(original, GraphQLError)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        code = EXPECTED_ERRORS.get(type(original))
        if code is None:
            log.error("unexpected error in %s", error.path, exc_info=original)
            masked = super().anonymise_error(error)
            masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
            return masked
        return GraphQLError(
            str(original) or code.replace("_", " ").capitalize(),
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": code},
        )


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    types=[Post, Page, Tag, StaffUser],
    extensions=[ErrorPolicy],
)


def graphql_router(
    db: Database, authenticator: Authenticator, preview: PreviewSigner, *, graphiql: bool
) -> GraphQLRouter[Context, None]:
    async def get_context(request: Request) -> Context:
        # Credentials are read once per request; bad ones fail before any resolver runs.
        try:
            viewer = await authenticator.viewer(
                authorization=request.headers.get("authorization"),
                api_key=request.headers.get("x-api-key"),
            )
        except Unauthenticated as error:
            raise HTTPException(
                status_code=401, detail=str(error), headers={"WWW-Authenticate": "Bearer"}
            ) from None
        return Context(viewer=viewer, db=db, preview=preview)

    return GraphQLRouter(
        schema,
        context_getter=get_context,
        graphql_ide="graphiql" if graphiql else None,
    )
