"""GET /media/…: stored images and their preset sizes, each made on its first request and
kept. A name's bytes never change (the name holds their hash), so answers are immutable for
a year, their ETag is the name, and a revalidation never needs the bytes.

Plain ASGI, answered ahead of FastAPI's router: images are the requests a site sends most,
and routing, a Request and a Response cost a kept size more than twice what serving it does
(bench/media.py). Everything outside it (request ids, access lines, security headers, the
body limit) applies as to any route."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from service.etags import matches
from service.media import images, presets
from service.media.files import MediaFiles
from service.media.storage import IMMUTABLE
from service.request_record import current_request

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

PREFIX = "/media/"
ROUTE = "/media/{path}"  # as metrics label it
RANGE = re.compile(r"bytes=(\d*)-(\d*)")
ALL = (0, -1)  # what _span gives for anything but one range: the whole file
MIME_TYPES = {
    extension: images.FORMATS[images.BY_NAME[name]][1].encode()
    for extension, name in presets.EXTENSIONS.items()
}
_JSON = ((b"content-type", b"application/json"),)
NOT_FOUND = b'{"detail":"Not Found"}'
NOT_ALLOWED = b'{"detail":"Method Not Allowed"}'


class MediaServer:
    """Serves GET and HEAD under PREFIX from `files`; every other request goes on to `app`."""

    def __init__(self, app: ASGIApp, *, files: MediaFiles) -> None:
        self.app = app
        self.files = files

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        record = current_request()
        if record is not None:
            record.route = ROUTE
        status, headers, body = await self._answer(scope)
        if status != 304:  # a 304 must not state a length other than the 200's (RFC 9110)
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )

    async def _answer(self, scope: Scope) -> tuple[int, Headers, bytes]:
        if scope["method"] not in ("GET", "HEAD"):
            return 405, [(b"allow", b"GET, HEAD"), *_JSON], NOT_ALLOWED
        path = scope["path"].removeprefix(PREFIX)
        asked = presets.parse(path)  # only named presets: anything else is a 404
        data = None if asked is None else await self.files.read(asked)
        if asked is None or data is None:
            return 404, [*_JSON], NOT_FOUND
        etag = f'"{path.replace("/", "-")}"'
        headers: Headers = [
            (b"cache-control", IMMUTABLE.encode()),
            (b"etag", etag.encode()),
            (b"accept-ranges", b"bytes"),
        ]
        asked_headers = _headers(scope, (b"if-none-match", b"range", b"if-range"))
        if matches(asked_headers.get(b"if-none-match"), etag):
            return 304, headers, b""
        headers.append((b"content-type", MIME_TYPES[asked.extension]))
        wanted = asked_headers.get(b"range")
        if_range = asked_headers.get(b"if-range")
        if wanted is None or (if_range is not None and if_range != etag):
            return 200, headers, data
        span = _span(wanted, len(data))
        if span is ALL:
            return 200, headers, data  # not one range: all of it
        if span is None:
            headers.append((b"content-range", f"bytes */{len(data)}".encode()))
            return 416, headers, b""
        start, end = span
        headers.append((b"content-range", f"bytes {start}-{end}/{len(data)}".encode()))
        return 206, headers, data[start : end + 1]


def _headers(scope: Scope, names: tuple[bytes, ...]) -> dict[bytes, str]:
    """The first value of each of `names` the request has."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in names and name not in found:
            found[name] = value.decode("latin-1")
    return found


def _span(header: str, size: int) -> tuple[int, int] | None:
    """The one byte range asked for, clamped to the file (RFC 9110 §14.1.2); None when it
    cannot be satisfied; ALL for anything but one range (the whole file is sent, as the
    RFC allows)."""
    found = RANGE.fullmatch(header.strip())
    if found is None:
        return ALL
    if size == 0:
        return None
    first, last = found.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        return (max(size - length, 0), size - 1) if length else None
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    return (start, end) if start <= end else None
