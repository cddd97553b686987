"""The GraphQL endpoint: Strawberry's FastAPI router, with what Broadsheet adds over HTTP:
media-type negotiation, refusals as GraphQL errors, caching headers and cache tags, uploads
only with credentials, persisted queries, and mutations refused over GET."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast

import orjson
import strawberry
from cross_web import AsyncHTTPRequestAdapter
from cross_web import HTTPException as CrossWebHTTPException
from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute
from strawberry.fastapi import BaseContext, GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from db.engine import Database
from db.repositories import SiteSettingsRepository
from graphql_schema import answer_tags, http_caching
from graphql_schema.context import DEFAULT_WEBHOOK_RULES, Context
from graphql_schema.graphiql import graphiql_page
from graphql_schema.persisted_queries import executed, resolve_document
from graphql_schema.transport import (
    APPLICATION_JSON,
    GRAPHQL_RESPONSE_JSON,
    LARGE_BODY_BYTES,
    content_type,
    error_codes,
    graphql_response_status,
    is_malformed_request,
    is_request_error,
    negotiate,
)
from service.auth import Authenticator
from service.errors import Unauthenticated
from service.examples import examples
from service.http_safety import content_security_policy
from service.media.files import MediaFiles
from service.offload import off_the_loop
from service.persisted_queries import PersistedQueries, PersistedQuerySettings
from service.policy import read_scope_is_public
from service.preview import PreviewSigner
from service.webhooks import TargetRules

log = logging.getLogger(__name__)
JSON_TYPES = frozenset({APPLICATION_JSON, GRAPHQL_RESPONSE_JSON})
MULTIPART = "multipart/form-data"
# The media type negotiated for the request being served: Strawberry builds the response in
# `create_response`, which is not handed the request.
_response_media_type: ContextVar[str] = ContextVar("response_media_type", default=APPLICATION_JSON)


@dataclass(frozen=True)
class _Caching:
    """What decides an answer's caching headers, from its request: a GET from a public
    reader may be kept by shared caches."""

    public: bool  # an anonymous reader or a CONTENT key
    shareable: bool
    if_none_match: str | None
    tags: answer_tags.Collected


_caching: ContextVar[_Caching | None] = ContextVar("caching", default=None)
# The request body and its parsed JSON, so Strawberry's own parse finds it done.
_parsed_body: ContextVar[tuple[bytes, object] | None] = ContextVar("parsed_body", default=None)


class _ReadAsJson:
    """A request seen as application/json: Strawberry parses only that media type, and
    clients may send the GraphQL-over-HTTP one, application/graphql-response+json.

    It passes for an AsyncHTTPRequestAdapter by delegating to the request it wraps."""

    content_type = "application/json"

    def __init__(self, request: Any) -> None:
        self._request = request

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)


class _RefusedCredentials(BaseContext):
    """The context of a request whose credentials were refused: the router answers 401 (as a
    GraphQL error in the negotiated media type) instead of running anything."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


def _has_errors(body: GraphQLHTTPResponse | list[GraphQLHTTPResponse]) -> bool:
    return not isinstance(body, dict) or bool(body.get("errors"))


class BroadsheetRouter(GraphQLRouter[Context, None]):
    """Strawberry's router, answering with the HTTP statuses cross-site safety asks for, and
    serving a GraphiQL page whose assets come from Broadsheet itself."""

    db: Database
    caching: http_caching.CachePolicy
    persisted_queries: PersistedQueries

    def decode_json(self, data: str | bytes) -> object:
        parsed = _parsed_body.get()
        if parsed is not None and parsed[0] is data:
            return parsed[1]  # the body, already parsed by parse_http_body
        # orjson, as the compiled path reads requests: strict where the standard library is
        # not (lone surrogates, NaN, nesting past 1,024 levels and 5,000-digit numbers are
        # 400s here, where json.loads accepts them or fails with a RecursionError).
        return orjson.loads(data)

    def encode_json(self, data: object) -> bytes:
        # orjson: several times faster than json.dumps, and the compiled path's encoder too,
        # so both paths answer the same bytes.
        return orjson.dumps(data)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        async with self.db.read_sessions() as session:
            site = await SiteSettingsRepository(session).get()
        origin = str(request.base_url).rstrip("/")
        page = graphiql_page(site.title, await examples(self.db), origin=origin)
        return HTMLResponse(
            page, headers={"Content-Security-Policy": content_security_policy(page)}
        )

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if self.is_websocket_request(request):
            return await super().run(request, context, root_value)
        media_type = negotiate(request.headers.get("accept"))
        token = _response_media_type.set(media_type or APPLICATION_JSON)
        public = isinstance(context, Context) and read_scope_is_public(context.viewer)
        tags, tags_token = answer_tags.collect()
        caching = _caching.set(
            _Caching(
                public=public,
                shareable=request.method == "GET" and public,
                if_none_match=request.headers.get("if-none-match"),
                tags=tags,
            )
        )
        try:
            if isinstance(context, _RefusedCredentials):
                raise HTTPException(
                    status_code=401, detail=context.reason, headers={"WWW-Authenticate": "Bearer"}
                )
            if media_type is None and not self.should_render_graphql_ide(
                self.request_adapter_class(request)
            ):
                raise HTTPException(
                    status_code=406, detail=f"Accept {GRAPHQL_RESPONSE_JSON} or {APPLICATION_JSON}."
                )
            return await super().run(request, context, root_value)
        except CrossWebHTTPException as error:
            if error.status_code != 400:
                raise  # 404: no GraphiQL here
            # Not a well-formed GraphQL request (bad JSON, no query, variables not a map...).
            return self._refusal(400, error.reason)
        except HTTPException as error:
            return self._refusal(error.status_code, str(error.detail), error.headers)
        finally:
            _response_media_type.reset(token)
            _caching.reset(caching)
            answer_tags.stop(tags_token)

    def _refusal(
        self, status_code: int, message: str, headers: Mapping[str, str] | None = None
    ) -> Response:
        """A request refused before anything ran, answered as a GraphQL error with a code (as
        Apollo Server does), so clients handle it like every other error."""
        code = "UNAUTHENTICATED" if status_code == 401 else "BAD_REQUEST"
        body: GraphQLHTTPResponse = {"errors": [{"message": message, "extensions": {"code": code}}]}
        response = self._response(body, status_code=status_code)
        response.headers.update(headers or {})
        return response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        status_code = sub_response.status_code or 200
        if isinstance(response_data, dict) and _response_media_type.get() == GRAPHQL_RESPONSE_JSON:
            # The spec's status codes: 200 once execution started, 4xx for request errors.
            status_code = graphql_response_status(response_data)
        elif isinstance(response_data, dict) and is_malformed_request(response_data):
            status_code = 400
        response = self._response(response_data, status_code=status_code)
        response.headers.raw.extend(sub_response.headers.raw)
        return response

    def _response(
        self, body: GraphQLHTTPResponse | list[GraphQLHTTPResponse], *, status_code: int
    ) -> Response:
        media_type = _response_media_type.get()
        headers: dict[str, str] = {}
        sent: object = body
        if isinstance(body, dict) and is_request_error(body):
            if media_type == GRAPHQL_RESPONSE_JSON or is_malformed_request(body):
                # Nothing was executed, so there is no `data` entry (the GraphQL spec's rule
                # for request errors; application/json keeps its `"data": null`).
                sent = {key: value for key, value in body.items() if key != "data"}
            if "PERSISTED_QUERY_NOT_FOUND" in error_codes(body):
                # About to be registered by the client's retry: no cache may keep this answer.
                headers["Cache-Control"] = "private, no-cache, must-revalidate"
        encoded = self.encode_json(sent)
        caching = _caching.get()
        public_answer = status_code == 200 and not _has_errors(body)
        tags = None if caching is None else caching.tags.tags()
        if caching is not None and caching.shareable and public_answer and tags is not None:
            etag = http_caching.etag(http_caching.digest(encoded), media_type)
            headers.update(
                {"ETag": etag, "Cache-Control": self.caching.public, "Vary": http_caching.VARY}
            )
            headers.update(self.caching.tag_headers(tags))
            if http_caching.matches(caching.if_none_match, etag):
                return Response(status_code=304, headers=headers)
        elif caching is not None:
            private = http_caching.NO_STORE if caching.public else http_caching.PRIVATE
            headers.setdefault("Cache-Control", private)
        return Response(
            encoded,
            status_code=status_code,
            media_type=content_type(media_type),
            headers=headers,
        )

    async def parse_http_body(self, request: Any) -> Any:
        content_type, _ = parse_content_type(request.content_type or "")
        if (
            request.method == "POST"
            and content_type == MULTIPART
            and self.multipart_uploads_enabled
        ):
            # A form a page on another site could post, with the visitor's cookies: taken only
            # with credentials such a page cannot send without a preflight (a Bearer token or
            # an API key header), before the body is parsed.
            headers = request.headers
            if not (headers.get("authorization") or headers.get("x-api-key")):
                raise HTTPException(
                    status_code=400,
                    detail="Uploads need an Authorization (Bearer) or X-Api-Key header.",
                )
            return await super().parse_http_body(request)
        if request.method == "POST":
            if content_type not in JSON_TYPES:
                raise HTTPException(status_code=415, detail="Send GraphQL as application/json.")
            raw = await request.get_body()
            # A big body takes tens of milliseconds to parse: not on the event loop.
            if len(raw) > LARGE_BODY_BYTES:
                body = await off_the_loop(self.parse_json, raw)
            else:
                body = self.parse_json(raw)
            # Strawberry reads the body as a request object (or a batch of them) without
            # looking: `null`, `7` or `[7]` would fail inside it.
            items = body if isinstance(body, list) else [body]
            if not all(isinstance(item, dict) for item in items):
                raise HTTPException(
                    status_code=400, detail="Send a JSON object: {query, variables, ...}."
                )
            token = _parsed_body.set((raw, body))
            try:
                return await super().parse_http_body(
                    cast(AsyncHTTPRequestAdapter, _ReadAsJson(request))
                )
            finally:
                _parsed_body.reset(token)
        return await super().parse_http_body(cast(AsyncHTTPRequestAdapter, _ReadAsJson(request)))

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET by persisted-query hash carries no `query` either: it is not a page visit.
        return (
            super().should_render_graphql_ide(request)
            and request.query_params.get("extensions") is None
        )

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> Any:
        lookup = await resolve_document(
            self.persisted_queries, request_data.query, request_data.extensions
        )
        if isinstance(lookup, ExecutionResult):
            return lookup  # refused before anything ran (unknown hash, not allowed...)
        request_data.query = lookup.document
        result = await self._execute_document(
            request=request,
            request_adapter=request_adapter,
            sub_response=sub_response,
            context=context,
            root_value=root_value,
            request_data=request_data,
        )
        if lookup.new and executed(result):
            await self.persisted_queries.remember(lookup)
        return result

    async def _execute_document(self, **kwargs: Any) -> Any:
        try:
            return await super().execute_single(**kwargs)
        except CrossWebHTTPException as error:
            refused = error.__cause__  # Strawberry raises its own error "from" the reason
            if (
                isinstance(refused, InvalidOperationTypeError)
                and refused.operation_type is OperationType.MUTATION
            ):
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
    persisted_queries: PersistedQueries | None = None,
    webhook_rules: TargetRules = DEFAULT_WEBHOOK_RULES,
    caching: http_caching.CachePolicy = http_caching.REVALIDATE,
    media: MediaFiles | None = None,
    media_url: str | None = None,
) -> GraphQLRouter[Context, None]:
    async def get_context(request: Request) -> Context | _RefusedCredentials:
        # Credentials are read once per request; bad ones fail before any resolver runs.
        try:
            viewer = await authenticator.viewer(
                authorization=request.headers.get("authorization"),
                api_key=request.headers.get("x-api-key"),
            )
        except Unauthenticated as error:
            return _RefusedCredentials(str(error))
        return Context(
            viewer=viewer,
            db=db,
            preview=preview,
            webhook_rules=webhook_rules,
            media=media,
            media_url=media_url,
        )

    router = BroadsheetRouter(
        schema,
        context_getter=get_context,  # type: ignore[arg-type]  # a refusal is a BaseContext too
        graphql_ide="graphiql" if graphiql else None,
        # The GraphQL multipart request (uploads): parse_http_body admits it from staff only.
        multipart_uploads_enabled=media is not None,
    )
    router.db = db
    router.caching = caching
    router.persisted_queries = persisted_queries or PersistedQueries(db, PersistedQuerySettings())
    _document_in_openapi(router)
    return router


GRAPHQL_REQUEST = {
    "type": "object",
    "required": ["query"],
    "properties": {
        "query": {"type": "string", "description": "The GraphQL document."},
        "variables": {"type": "object", "description": "Values of its variables."},
        "operationName": {
            "type": "string",
            "description": "Which operation to run, when the document has several.",
        },
        "extensions": {
            "type": "object",
            "description": "`persistedQuery: {version: 1, sha256Hash}` for persisted queries.",
        },
    },
}
GRAPHQL_RESPONSE = {
    "description": "`{data, errors}` as the GraphQL spec says; errors carry `extensions.code`.",
    "content": {"application/json": {}, "application/graphql-response+json": {}},
}


def _document_in_openapi(router: GraphQLRouter[Context, None]) -> None:
    """Name, tag and describe Strawberry's two routes, so /docs reads as this API's
    documentation instead of listing "Handle Http Get" under "default"."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        route.tags = ["graphql"]
        route.responses = {200: GRAPHQL_RESPONSE}
        assert route.methods is not None  # Strawberry's routes each name their methods
        if "GET" in route.methods:
            route.operation_id = "graphql_get"
            route.summary = "Run a GraphQL query by GET (or open GraphiQL in a browser)"
            route.description = (
                "Queries only (a mutation is a 405). Pass `query`, `variables` (JSON) and "
                "`operationName` as URL parameters, or a persisted query's hash in "
                "`extensions`. Anonymous answers are cacheable (`ETag`, `Cache-Control`). "
                "Opened by a browser, this is GraphiQL (development only, by default)."
            )
        elif "POST" in route.methods:
            route.operation_id = "graphql_post"
            route.summary = "Run a GraphQL query or mutation"
            route.description = (
                "Send `application/json`. Reading published content needs no credentials (or "
                "a CONTENT key in `X-Api-Key`); staff send `Authorization: Bearer <token>` "
                "from `POST /api/v1/auth/token`. The schema is at `GET /schema.graphql`."
            )
            route.openapi_extra = {
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": GRAPHQL_REQUEST}},
                }
            }
