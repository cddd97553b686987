"""The ASGI door to the compiled path: public GraphQL reads it has a plan for are answered
from one SQL statement (or the response cache); every other request goes on, untouched, to
the Strawberry router."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import orjson
from cachetools import LRUCache
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphql_schema import http_caching
from graphql_schema.compiled.content_keys import ContentKeys
from graphql_schema.compiled.generation import Generation
from graphql_schema.compiled.plans import CompiledQueries, DatabaseTimeout, Plan, variables_key
from graphql_schema.compiled.reads import DATABASE_ERRORS
from graphql_schema.compiled.response_cache import CachedResponse, ResponseCache
from graphql_schema.observability import MAX_NAME_LENGTH
from graphql_schema.transport import LARGE_BODY_BYTES, content_type, negotiate
from service.persisted_queries import PersistedQueries, PersistedQueryError
from service.request_record import GraphQLOutcome, RequestRecord, current_request

log = logging.getLogger(__name__)
REQUEST_KEYS = frozenset({"query", "operationName", "variables", "extensions"})
JSON = b"application/json"
SKIP_KEY = "broadsheet.general_path"  # set on a request the compiled path must not answer
# Set on a request answered with a response cache entry: the content generation it belongs
# to, while which the same request gets the same answer (front.py repeats it).
REPEATABLE_KEY = "broadsheet.repeatable"
KNOWN_REQUEST_BYTES = 8_000_000  # per worker


@dataclass(frozen=True, slots=True)
class _Known:
    """What one request's bytes ask for."""

    key: Any  # the response cache's
    plan: Plan
    variables: dict[str, Any]
    operation_name: str | None  # as recorded
    size: int  # of the request's bytes, which key it, and about as much again for this


def _size(known: _Known) -> int:
    return known.size


class ResponseMismatch(AssertionError):
    """Verify mode: the two paths answered the same request differently."""


class CompiledQueryMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        queries: CompiledQueries,
        persisted: PersistedQueries,
        content_keys: ContentKeys,
        cache: ResponseCache | None,
        path: str,
        caching: http_caching.CachePolicy,
        verify: bool = False,
    ) -> None:
        self.app = app
        self.queries = queries
        self.persisted = persisted
        self.content_keys = content_keys
        self.cache = cache
        self.path = path
        self.caching = caching
        # Bounded by bytes, as clients choose them.
        self._known: LRUCache[tuple[str, bytes, bytes], _Known] = LRUCache(
            KNOWN_REQUEST_BYTES, getsizeof=_size
        )
        # Verify mode (the test suite): every answer is also computed by the general path
        # and the two bodies must be identical, byte for byte.
        self.verify = verify

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != self.path
            or scope["method"] not in ("GET", "POST")
            or scope.get(SKIP_KEY)
            or (media_type := _eligible(scope["headers"], scope["method"])) is None
        ):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive) if scope["method"] == "POST" else b""
        if body is None:
            return  # the client went away
        try:
            answer = await self._answer(scope, body, media_type)
        except Exception:
            if self.verify:
                raise  # the tests must see it
            # A defect of this path must never cost the reader an answer: the general path,
            # which the compiled one only speeds up, answers instead.
            log.exception("compiled path: unexpected error; the general path answers")
            answer = None
        if answer is None:
            await self.app(scope, replay(body, receive), send)
            return
        if self.verify:
            await self._compare(scope, body, answer)
        await _send(send, scope, answer, content_type(media_type), self.caching)
        if answer.generation is not None:
            scope[REPEATABLE_KEY] = answer.generation

    async def _answer(self, scope: Scope, body: bytes, media_type: str) -> CachedResponse | None:
        if not await self._reads_as_anonymous(scope):
            return None
        # A site's frontend sends the same few requests over and over: what their bytes ask is
        # worked out once (persisted queries and plans never change for the same bytes).
        sent = (scope["method"], scope["query_string"], body)
        known = self._known.get(sent)
        if known is None:
            known = await self._understand(scope, body)
            if known is None:
                return None
            self._known[sent] = known
        try:
            cached = await self._cached_or_fresh(known.key, known.plan, known.variables)
        except DatabaseTimeout:
            log.error("compiled path: the database did not answer in time", exc_info=True)
            return _internal_error(known.plan.keys, known.operation_name, self.path)
        if cached is None:
            return None
        self.queries.answered += 1
        _record(GraphQLOutcome("query", known.operation_name), self.path)
        return cached

    async def _understand(self, scope: Scope, body: bytes) -> _Known | None:
        """What a request asks for, or None when the general path must answer it."""
        request = _request(scope, body)
        if request is None:
            return None
        given, operation_name, variables, extensions = request
        try:
            # Persisted queries (and the allow-list) are decided as on the general path.
            lookup = await self.persisted.resolve(given, extensions)
        except PersistedQueryError:
            return None  # the general path reports it
        query = lookup.document
        if query is None or lookup.new:
            return None  # a new document is stored by the general path once it has run
        plan = await self.queries.plan(query, operation_name, variables)
        if plan is None:
            return None
        key = (query, operation_name, variables_key(plan.declared, variables))  # not None here
        # As the general path records it (graphql_schema.observability).
        recorded_name = operation_name[:MAX_NAME_LENGTH] if operation_name else None
        # Only the declared variables: a body can carry any number of others, which change
        # nothing but would be kept.
        declared = {name: variables[name] for name in plan.declared if name in variables}
        size = 2 * (len(scope["query_string"]) + len(body)) + 200
        return _Known(key, plan, declared, recorded_name, size)

    async def _reads_as_anonymous(self, scope: Scope) -> bool:
        """No credentials, or a CONTENT API key (what a site's frontend sends): it reads what
        anonymous readers read. An ADMIN key or a bad one is the general path's to answer."""
        api_key = next((v for k, v in scope["headers"] if k == b"x-api-key"), None)
        return api_key is None or await self.content_keys.public(api_key)

    async def _cached_or_fresh(
        self, key: Any, plan: Plan, variables: dict[str, Any]
    ) -> CachedResponse | None:
        cache = self.cache
        generation = None if cache is None else await _generation(cache)
        if cache is not None and generation is not None:
            cached = cache.get(key, generation)
            if cached is not None:
                return cached
        answer = await self.queries.execute(plan, variables)
        if answer is None:
            return None
        if generation is not None and answer.version is not None and answer.version < generation[0]:
            # Read from a replica still behind the primary: good enough for this reader, but
            # a CDN keeping it after the change's purge would keep it until it expires.
            return CachedResponse(answer.body, generation=None, shareable=False)
        if cache is None or generation is None or answer.version is None:
            return CachedResponse(answer.body, generation=None, tags=answer.tags)
        # Filed under the version it was read at: an answer from a replica still behind the
        # generation is made again on the next request, not kept as current.
        made_at = (answer.version, generation[1])
        return cache.put(key, made_at, answer.body, answer.tags)

    async def _compare(self, scope: Scope, body: bytes, answer: CachedResponse) -> None:
        chunks: list[bytes] = []
        headers: dict[bytes, bytes] = {}

        async def collect(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers.update(message["headers"])
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        async def no_more() -> Message:
            return {"type": "http.disconnect"}

        # The whole answer, not a 304: the bodies are what is compared.
        asked = [(k, v) for k, v in scope["headers"] if k != b"if-none-match"]
        general_scope = {**scope, "headers": asked, SKIP_KEY: True}
        await self.app(general_scope, replay(body, no_more), collect)
        general = b"".join(chunks)
        if general != answer.body:
            raise ResponseMismatch(
                f"compiled:\n{answer.body.decode()}\ngeneral:\n{general.decode()}"
            )
        # The tags too, where the general path sends them (public GETs without errors).
        for name, value in self.caching.tag_headers(answer.tags) if answer.shareable else ():
            general_value = headers.get(name.lower().encode())
            if general_value is not None and general_value != value.encode():
                raise ResponseMismatch(f"{name}: compiled {value!r}, general {general_value!r}")


async def _generation(cache: ResponseCache) -> Generation | None:
    try:
        return await cache.generation()
    except TimeoutError as error:
        raise DatabaseTimeout from error
    except DATABASE_ERRORS:
        return None  # not cached; the general path will meet the database's state


def _record(outcome: GraphQLOutcome, route: str) -> RequestRecord | None:
    """Tell request observability (the access line, metrics) what was answered here: no
    router saw the request, so the route is ours to name."""
    record = current_request()
    if record is not None:
        record.graphql.append(outcome)
        record.route = route
    return record


def _internal_error(
    keys: tuple[str, ...], operation_name: str | None, route: str
) -> CachedResponse:
    """What the general path answers when the database fails under every root field."""
    codes = ["INTERNAL_SERVER_ERROR"] * len(keys)
    record = _record(GraphQLOutcome("query", operation_name, codes), route)
    extensions: dict[str, Any] = {"code": "INTERNAL_SERVER_ERROR"}
    if record is not None:
        extensions["requestId"] = record.request_id
    errors = [
        {"message": "Internal error.", "path": [key], "extensions": extensions} for key in keys
    ]
    body = orjson.dumps({"data": None, "errors": errors})
    return CachedResponse(body, generation=None, shareable=False)


def _eligible(headers: list[tuple[bytes, bytes]], method: str) -> str | None:
    """The media type to answer a JSON request without a staff token in; None for any other
    request. (An API key is checked later: a CONTENT key reads what anonymous readers do.)"""
    accept = None
    typed = method != "POST"  # a POST must say it is JSON, as the general path requires
    for name, value in headers:
        if name == b"authorization":
            return None  # staff (a Bearer token): the general path
        if name == b"accept":
            accept = value.decode("latin-1")
        if name == b"content-type" and method == "POST":
            if not is_json(value):
                return None
            typed = True
    return negotiate(accept) if typed else None


def is_json(content_type: bytes) -> bool:
    """Whether a Content-Type header says JSON (parameters such as charset aside)."""
    return content_type.split(b";")[0].strip() == JSON


Request = tuple[str | None, str | None, dict[str, Any], dict[str, Any] | None]


def _request(scope: Scope, body: bytes) -> Request | None:
    """(query, operationName, variables, extensions) of a single request; None for anything
    else (batches, malformed requests, bodies too big to parse on the event loop: the general
    path answers those)."""
    if len(body) > LARGE_BODY_BYTES:
        return None
    try:
        if scope["method"] == "POST":
            payload = orjson.loads(body)
        else:
            params = parse_qs(scope["query_string"].decode("latin-1"), strict_parsing=False)
            if any(len(values) > 1 for values in params.values()):
                return None  # repeated parameters: the general path decides which counts
            payload = {name: values[0] for name, values in params.items()}
            for name in ("variables", "extensions"):
                if name in payload:
                    payload[name] = orjson.loads(payload[name])
    except (orjson.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(payload, dict) or set(payload) - REQUEST_KEYS:
        return None
    query = payload.get("query")
    operation_name = payload.get("operationName")
    variables = payload.get("variables")
    variables = {} if variables is None else variables
    extensions = payload.get("extensions")
    if (
        not isinstance(query, str | None)
        or not isinstance(operation_name, str | None)
        or not isinstance(variables, dict)
        or not isinstance(extensions, dict | None)
    ):
        return None
    return query, operation_name, variables, extensions


async def read_body(receive: Receive) -> bytes | None:
    """The request's whole body; None if the client went away before sending it all (there
    is nobody to answer, and a part must not pass for the whole)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """`receive` for an app after the body was read here: the body, then what follows."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _send(
    send: Send,
    scope: Scope,
    answer: CachedResponse,
    media_type: str,
    caching: http_caching.CachePolicy,
) -> None:
    headers = [(b"content-type", media_type.encode("latin-1"))]
    status, body = 200, answer.body
    if scope["method"] == "GET" and answer.shareable:
        # Anonymous reads may be kept by shared caches; the ETag makes a revalidation a 304
        # while the content is unchanged.
        headers += answer.public_headers(media_type, caching)
        etag = answer.etag(media_type)
        asked = next((v for k, v in scope["headers"] if k == b"if-none-match"), None)
        if http_caching.matches(None if asked is None else asked.decode("latin-1"), etag):
            status, body = 304, b""
    else:
        headers.append((b"cache-control", http_caching.NO_STORE.encode()))
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
