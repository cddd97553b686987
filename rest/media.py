"""GET /media/…: stored images and their preset sizes, each made on its first request and
kept. A name's bytes never change (the name holds their hash), so answers are immutable for
a year, their ETag is the name, and a revalidation never needs the bytes."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request, Response

from service.etags import matches
from service.media import images, presets
from service.media.files import MediaFiles
from service.media.storage import IMMUTABLE

RANGE = re.compile(r"bytes=(\d*)-(\d*)")
ALL = (0, -1)  # what _span gives for anything but one range: the whole file
MIME_TYPES = {
    extension: images.FORMATS[images.BY_NAME[name]][1]
    for extension, name in presets.EXTENSIONS.items()
}


router = APIRouter(tags=["media"])


@router.get("/media/{path:path}", include_in_schema=False)
async def media(path: str, request: Request) -> Response:
    """An image or one of its preset sizes (only named presets: anything else is a 404)."""
    asked = presets.parse(path)
    if asked is None:
        return Response(status_code=404)
    etag = f'"{path.replace("/", "-")}"'
    headers = {"Cache-Control": IMMUTABLE, "ETag": etag, "Accept-Ranges": "bytes"}
    files: MediaFiles = request.app.state.media_files
    data = await files.read(asked)
    if data is None:
        return Response(status_code=404)
    if matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    media_type = MIME_TYPES[asked.extension]
    wanted = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if wanted is None or (if_range is not None and if_range != etag):
        return Response(data, media_type=media_type, headers=headers)
    span = _span(wanted, len(data))
    if span is ALL:
        return Response(data, media_type=media_type, headers=headers)  # not one range: all
    if span is None:
        headers["Content-Range"] = f"bytes */{len(data)}"
        return Response(status_code=416, headers=headers)
    start, end = span
    headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
    return Response(data[start : end + 1], status_code=206, media_type=media_type, headers=headers)


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
