"""The floor under Broadsheet's response cache and its /media files: a bare ASGI app that
answers each benchmark request with the bytes Broadsheet answered it with, doing nothing else.

bench/compare.py starts it like the other servers (the same uvicorn command: one worker,
uvloop and httptools as uvicorn picks them), asks Broadsheet every variant of every query
once and installs the answers here, status, headers and body, with `PUT /answers`. From then
on a request whose body it knows gets exactly those bytes back: no routing, no middleware,
no JSON parsing, no cache key, no generation check, one dict lookup by the body's bytes.
That is the least a Python ASGI app can do per request on this server stack, so Broadsheet's
cache hits are measured against it.

    uvicorn bare_app:app --app-dir bench --workers 1
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

ANSWERS_PATH = "/answers"
# Each answer's two ASGI messages, built once at install time: a request costs no allocation
# of headers or bodies. POSTs by their body, GETs by their path.
answers: dict[bytes, tuple[Message, Message]] = {}
by_path: dict[str, tuple[Message, Message]] = {}


def messages(status: int, headers: Headers, body: bytes) -> tuple[Message, Message]:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    return (
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": body},
    )


JSON = [(b"content-type", b"application/json")]
UNKNOWN = messages(404, JSON, b'{"errors": [{"message": "no answer installed for this body"}]}')
OK = messages(200, JSON, b'{"status": "ok"}')


def install(table: list[dict[str, Any]]) -> None:
    """`[{"request": str | "path": str, "status": int, "headers": [[name, value], ...],
    "body": str | "body_base64": str}]`: a POST's body or a GET's path, and the answer; the
    headers without content-length (added here) and without date and server (uvicorn adds
    those to every answer, as it does to Broadsheet's)."""
    answers.clear()
    by_path.clear()
    for entry in table:
        headers = [
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in entry["headers"]
        ]
        body = (
            base64.b64decode(entry["body_base64"])
            if "body_base64" in entry
            else entry["body"].encode()
        )
        answer = messages(entry["status"], headers, body)
        if "path" in entry:
            by_path[entry["path"]] = answer
        else:
            answers[entry["request"].encode()] = answer


async def read_body(receive: Receive) -> bytes:
    message = await receive()
    body: bytes = message.get("body", b"")
    while message.get("more_body"):  # wrk's bodies come in one message; big ones may not
        message = await receive()
        body += message.get("body", b"")
    return body


async def lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    if scope["method"] == "POST":
        start, body = answers.get(await read_body(receive), UNKNOWN)
    elif scope["method"] == "PUT" and scope["path"] == ANSWERS_PATH:
        install(json.loads(await read_body(receive)))
        start, body = OK
    else:  # a GET: an installed path, or the harness's readiness check
        start, body = by_path.get(scope["path"], OK)
    await send(start)
    await send(body)
