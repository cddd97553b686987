"""Plain ASGI middleware: a request body limit enforced before anything parses the body,
and the security headers every response carries."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
]


# Browser assets (GraphiQL, Swagger UI, ReDoc) are served from here, never from a CDN.
STATIC_DIR = Path(__file__).parent / "static"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def content_security_policy(page: str) -> str:
    """Only this origin, plus the page's own inline scripts, allowed by their SHA-256."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(page)
    )
    return (
        "default-src 'self'; "
        f"script-src 'self' {hashes}; "
        "style-src 'self' 'unsafe-inline'; "  # the UIs set element styles at run time
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    """Answer 413 to bodies over `max_bytes`, by Content-Length or while they stream in (so
    before they are read in full); uploads (multipart POSTs to `upload_path`) may be up to
    `upload_max_bytes`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        upload_max_bytes: int | None = None,
        upload_path: str = "/graphql",
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_max_bytes = upload_max_bytes or max_bytes
        self.upload_path = upload_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        content_type = declared = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value
            elif name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                chunked = True
        limit = self.max_bytes
        if (
            scope["path"] == self.upload_path
            and content_type is not None
            and content_type.startswith(b"multipart/form-data")
        ):
            limit = self.upload_max_bytes
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send)
            return
        if (declared is not None and not chunked) or scope["method"] in ("GET", "HEAD"):
            # Nothing left to watch: an HTTP/1.1 server delivers no more than a declared length
            # (with Transfer-Encoding too, some servers read the chunks instead: counted), and
            # nothing here reads the body of a GET.
            await self.app(scope, receive, send)
            return
        received = 0
        started = over = refused = False

        async def limited_receive() -> Message:
            nonlocal received, over
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                over = True
                raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started, refused
            if over and not started:
                # Whatever the app made of the body stopped short (FastAPI's form parsing
                # answers 400 for it), the client is told why.
                if not refused:
                    refused = True
                    await self._refuse(send)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started and not refused:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = (
            b'{"detail":"Request body too large (BROADSHEET_MAX_BODY_BYTES; uploads: '
            b'BROADSHEET_MEDIA_MAX_BYTES)."}'
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    *SECURITY_HEADERS,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """nosniff, a referrer policy and no framing on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Added whole: no route sets any of them itself.
                message["headers"] = [*message.get("headers", ()), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)
