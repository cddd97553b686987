"""The cache front: a repeated anonymous read answered in front of the whole app.

A site's frontend sends the same few requests over and over, and between two content changes
each gets the same answer. The response cache spares those requests the database, but a hit
still went through FastAPI's layers and every middleware on its way to the compiled path and
back, which cost more than answering did (bench/RESULTS.md: a hit cost about twice what a
bare ASGI app answering the same bytes costs).

So when the compiled path answers a request from the response cache, this layer keeps the
whole response as the app sent it (status, every layer's headers, body) under what decides
it: the method, the query string, the body and the request headers a layer reads to shape a
response. The same request is then answered with those bytes before FastAPI sees it, for as
long as the content generation lasts (generation.py: known without a statement, and pushed
to every worker when it moves). Request ids, Server-Timing, the access line and metrics come
from request observability, which sits outside this layer and sees every request alike.

Everything else goes on to the app as it came: other paths and methods, staff tokens, POSTs
not declared JSON, bodies not declared within the body limit (the body limit's to judge), a
CONTENT key not judged lately, and every request while the generation is not known without a
statement (at start, while PostgreSQL's notifications are lost)."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphql_schema.compiled.content_keys import ContentKeys
from graphql_schema.compiled.generation import Generation, Generations
from graphql_schema.compiled.middleware import REPEATABLE_KEY, is_json, read_body, replay
from service.request_record import GraphQLOutcome, current_request

# The request headers a layer reads to shape a compiled answer: Accept and Content-Type (the
# compiled path's media type, and whether a POST is JSON), If-None-Match (a 304), Origin
# (CORS) and X-API-Key (who reads). A layer that starts reading another must add it here.
DECIDING = frozenset({b"accept", b"content-type", b"if-none-match", b"origin", b"x-api-key"})
# Never answered here: a staff token is judged on every request, and a chunked body is
# counted by the body limit as it arrives.
PASSED = frozenset({b"authorization", b"transfer-encoding"})
METHODS = ("GET", "POST")
MAX_KEPT_BYTES = 32_000_000  # per worker
ENTRY_BYTES = 2_000  # what Python takes for an entry besides the bytes it holds

Headers = tuple[tuple[bytes, bytes], ...]
Key = tuple[str, bytes, bytes, Headers]  # method, query string, body, deciding headers


@dataclass(frozen=True, slots=True)
class _Kept:
    status: int
    headers: Headers  # a tuple: a layer outside must copy to add its own
    body: bytes
    outcomes: tuple[GraphQLOutcome, ...]  # as the compiled path recorded them
    size: int  # counted against MAX_KEPT_BYTES


@dataclass
class _Answers:
    """The answers kept for one generation: all are stale once it moves."""

    generation: Generation | None
    kept: dict[Key, _Kept] = field(default_factory=dict)
    size: int = 0


class CacheFront:
    def __init__(
        self,
        app: ASGIApp,
        *,
        path: str,
        generations: Generations,
        content_keys: ContentKeys,
        max_body_bytes: int,
    ) -> None:
        self.app = app
        self.path = path
        self.generations = generations
        self.content_keys = content_keys
        self.max_body_bytes = max_body_bytes
        self._answers = _Answers(None)
        self.hits = 0  # requests answered here

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] not in METHODS:
            await self.app(scope, receive, send)
            return
        deciding = []
        length = api_key = content_type = None
        for name, value in scope["headers"]:
            if name in DECIDING:
                deciding.append((name, value))
                if name == b"x-api-key" and api_key is None:  # the first, as everywhere
                    api_key = value
                elif name == b"content-type":
                    content_type = value
            elif name == b"content-length":
                length = value
            elif name in PASSED:
                await self.app(scope, receive, send)
                return
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            await self.app(scope, receive, send)  # the body limit's to answer
            return
        body = b""
        if scope["method"] == "POST":
            if length is None or content_type is None or not is_json(content_type):
                await self.app(scope, receive, send)  # never the compiled path's
                return
            read = await read_body(receive)
            if read is None:
                return  # the client went away
            body = read
        key = (scope["method"], scope["query_string"], body, tuple(deciding))
        generation = self.generations.known()
        kept = None
        if generation is not None:
            if generation != self._answers.generation:
                self._answers = _Answers(generation)
            kept = self._answers.kept.get(key)
        if kept is not None and (api_key is None or self.content_keys.remembered(api_key)):
            await self._repeat(kept, send)
            return
        if scope["method"] == "POST":
            receive = replay(body, receive)  # read above
        if generation is None:
            # Not known without a statement: the app checks it. What is kept stays, should
            # the generation come back the same (on SQLite any commit to the file, content
            # or not, makes it unknown until read again).
            await self.app(scope, receive, send)
        else:
            await self._pass_and_keep(key, scope, receive, send)

    async def _repeat(self, kept: _Kept, send: Send) -> None:
        self.hits += 1
        record = current_request()
        if record is not None:
            # As the compiled path records its answers, for the access line and metrics.
            # (The outcomes are shared: nothing changes one once its request has ended.)
            record.graphql.extend(kept.outcomes)
            record.route = self.path
        await send({"type": "http.response.start", "status": kept.status, "headers": kept.headers})
        await send({"type": "http.response.body", "body": kept.body})

    async def _pass_and_keep(self, key: Key, scope: Scope, receive: Receive, send: Send) -> None:
        """Let the app answer, and keep its answer if the compiled path says it is repeatable."""
        head: tuple[int, Headers] | None = None
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            nonlocal head
            if message["type"] == "http.response.start":
                # Copied now: a layer outside adds its own headers to the message.
                head = (message["status"], tuple(message.get("headers", ())))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, keep)
        answers = self._answers
        made: Generation | None = scope.get(REPEATABLE_KEY)
        if head is None or made is None or made != answers.generation:
            return  # not the response cache's answer, or one of a generation gone since
        record = current_request()
        status, headers = head
        body = b"".join(chunks)
        # Counted whole though shared with the response cache's entry: a bound, not a tally.
        size = ENTRY_BYTES + len(body) + sum(len(v) for _, v in (*key[3], *headers))
        size += len(key[1]) + len(key[2])
        outcomes = () if record is None else tuple(record.graphql)
        replaced = answers.kept.pop(key, None)  # kept meanwhile by a request like this one
        if replaced is not None:
            answers.size -= replaced.size
        if answers.size + size > MAX_KEPT_BYTES:
            # Dropped whole rather than by use: every entry lasts one generation anyway, and
            # a popular request is kept again at its next answer.
            answers.kept.clear()
            answers.size = 0
        answers.kept[key] = _Kept(status, headers, body, outcomes, size)
        answers.size += size
