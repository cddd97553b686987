"""The Strawberry schema and its router."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import strawberry
from cross_web import HTTPException as CrossWebHTTPException
from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection, MaskErrors
from strawberry.fastapi import GraphQLRouter
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.config import StrawberryConfig

from db.engine import Database
from db.repositories import SiteSettingsRepository
from graphql_schema.context import Context
from graphql_schema.limits import QueryLimits, QueryLimitSettings
from graphql_schema.mutations.root import Mutation
from graphql_schema.observability import GraphQLObservability
from graphql_schema.pages import graphiql_page
from graphql_schema.queries import Query
from graphql_schema.types.content import Page, Post
from graphql_schema.types.tag import Tag
from graphql_schema.types.user import StaffUser
from service.auth import Authenticator
from service.errors import Forbidden, NotFound, Unauthenticated
from service.http_safety import content_security_policy
from service.observability import current_request
from service.preview import PreviewSigner

log = logging.getLogger(__name__)
JSON_TYPES = frozenset({"application/json", "application/graphql-response+json"})

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


def build_schema(options: SchemaOptions = SchemaOptions()) -> strawberry.Schema:
    limits = options.limits
    # Factories, so every request gets fresh extension instances.
    # GraphQLObservability first: it unwinds last, so it sees the final error codes.
    extensions: list[Any] = [GraphQLObservability, lambda: QueryLimits(limits=limits), ErrorPolicy]
    if not options.introspection:
        extensions.append(DisableIntrospection)
    config = StrawberryConfig(
        disable_field_suggestions=not options.field_suggestions,
        batching_config=(
            {"max_operations": options.batch_max_operations}
            if options.batch_max_operations
            else None
        ),
    )
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=[Post, Page, Tag, StaffUser],
        extensions=extensions,
        config=config,
    )


# The default schema: `broadsheet schema export` prints it; apps build their own from settings.
schema = build_schema()


class _ReadAsJson:
    """A request seen as application/json: Strawberry parses only that media type, and
    clients may send the GraphQL-over-HTTP one, application/graphql-response+json."""

    content_type = "application/json"

    def __init__(self, request: Any) -> None:
        self._request = request

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)


class BroadsheetRouter(GraphQLRouter[Context, None]):
    """Strawberry's router, answering with the HTTP statuses cross-site safety asks for, and
    serving a GraphiQL page whose assets come from Broadsheet itself."""

    db: Database

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        async with self.db.read_sessions() as session:
            site = await SiteSettingsRepository(session).get()
        page = graphiql_page(site.title)
        return HTMLResponse(
            page, headers={"Content-Security-Policy": content_security_policy(page)}
        )

    async def parse_http_body(self, request: Any) -> Any:
        content_type, _ = parse_content_type(request.content_type or "")
        if request.method == "POST" and content_type not in JSON_TYPES:
            raise HTTPException(status_code=415, detail="Send GraphQL as application/json.")
        return await super().parse_http_body(_ReadAsJson(request))

    async def execute_single(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().execute_single(*args, **kwargs)
        except CrossWebHTTPException as error:
            if "mutations are not allowed when using GET" in str(error.reason):
                # GET must never change anything (no cross-site writes by link or image).
                raise HTTPException(
                    status_code=405, detail="Send mutations with POST.", headers={"Allow": "POST"}
                ) from None
            raise


def graphql_router(
    schema: strawberry.Schema,
    db: Database,
    authenticator: Authenticator,
    preview: PreviewSigner,
    *,
    graphiql: bool,
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

    router = BroadsheetRouter(
        schema,
        context_getter=get_context,
        graphql_ide="graphiql" if graphiql else None,
    )
    router.db = db
    return router
