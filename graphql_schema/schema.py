"""The Strawberry schema: types, extensions (observability, document checks, the error
policy) and the options deployments differ in. Served by graphql_schema/router.py."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.schema.config import StrawberryConfig

from graphql_schema.documents import DocumentChecks, Documents
from graphql_schema.limits import QueryLimitSettings
from graphql_schema.mutations.root import Mutation
from graphql_schema.observability import GraphQLObservability
from graphql_schema.queries import Query
from graphql_schema.scalars import DATETIME
from graphql_schema.types.content import Page, Post
from graphql_schema.types.tag import Tag
from graphql_schema.types.user import StaffUser
from service.errors import Forbidden, NotFound, Unauthenticated
from service.request_record import current_request

log = logging.getLogger(__name__)
# Domain exceptions that reach GraphQL as errors with a code (their message is for clients).
# Looked up by type(error.original_error), which is NoneType for errors GraphQL raised itself.
EXPECTED_ERRORS: dict[type[Exception | None], str] = {
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

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            if not (error.extensions or {}).get("code"):
                # Without a path it is about the request (its variables, its operation name).
                code = "BAD_USER_INPUT" if error.path is None else "INTERNAL_SERVER_ERROR"
                error.extensions = {**(error.extensions or {}), "code": code}
        return processed

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        code = EXPECTED_ERRORS.get(type(original))
        if code is None:
            log.error("unexpected error in %s", error.path, exc_info=original)
            masked = super().anonymise_error(error)
            request = current_request()
            # The request id lets an operator find the full error in the logs.
            masked.extensions = {
                "code": "INTERNAL_SERVER_ERROR",
                **({"requestId": request.request_id} if request else {}),
            }
            return masked
        return GraphQLError(
            str(original) or code.replace("_", " ").capitalize(),
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": code},
        )


@dataclass(frozen=True)
class SchemaOptions:
    """What differs between deployments: limits, introspection, suggestions, batching."""

    limits: QueryLimitSettings = field(default_factory=QueryLimitSettings)
    introspection: bool = True
    field_suggestions: bool = True
    batch_max_operations: int = 0  # 0: batched (array) requests are refused


class BroadsheetSchema(strawberry.Schema):
    """The schema, with the documents cache both read paths prepare documents through."""

    documents: Documents


def build_schema(options: SchemaOptions = SchemaOptions()) -> BroadsheetSchema:
    documents: Documents  # made once the schema exists; the factory below runs per request
    # Factories, so every request gets fresh extension instances.
    # GraphQLObservability first: it unwinds last, so it sees the final error codes.
    extensions: list[Any] = [
        GraphQLObservability,
        lambda: DocumentChecks(documents),
        ErrorPolicy,
    ]
    config = StrawberryConfig(
        disable_field_suggestions=not options.field_suggestions,
        scalar_map={datetime: DATETIME},
        batching_config=(
            {"max_operations": options.batch_max_operations}
            if options.batch_max_operations
            else None
        ),
    )
    schema = BroadsheetSchema(
        query=Query,
        mutation=Mutation,
        types=[Post, Page, Tag, StaffUser],
        extensions=extensions,
        config=config,
    )
    documents = Documents(
        schema._schema, limits=options.limits, introspection=options.introspection
    )
    schema.documents = documents
    return schema


# The default schema: `broadsheet schema export` prints it; apps build their own from settings.
schema = build_schema()
