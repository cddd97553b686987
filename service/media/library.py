"""The media library's rules: who uploads and changes files, what an upload must be, the same
bytes kept once, deletions that would break content refused, and the events they emit."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.outbox import PendingEvent, record
from db.repositories.media import MediaRepository
from service import policy
from service.errors import Forbidden, InvalidInput, NotFound
from service.global_ids import to_global_id
from service.media import images, presets
from service.media.storage import Storage
from service.offload import off_the_loop
from service.policy import Viewer

# Decoding and encoding images: one at a time per process, so uploads never starve the
# threads that parse GraphQL documents (a 24-megapixel JPEG takes a few hundred ms).
IMAGES = ThreadPoolExecutor(max_workers=1, thread_name_prefix="images")
MAX_FILENAME = 255
# What a name may end with, per format decided by the bytes.
NAME_EXTENSIONS = {
    "jpeg": {"jpg", "jpeg", "jpe"},
    "png": {"png"},
    "gif": {"gif"},
    "webp": {"webp"},
    "avif": {"avif"},
}
EDITABLE = ("alt", "caption", "focal_x", "focal_y")


def clean_filename(name: str | None, format: str) -> str:
    """The upload's name as shown to editors; InvalidInput for names that try a path, hide
    characters, or claim another format than the bytes have."""
    if not name:
        raise images.refused("Give the file a name (e.g. photo.jpg).", "REQUIRED")
    name = unicodedata.normalize("NFC", name)
    if "/" in name or "\\" in name or name in (".", "..") or name.startswith("."):
        raise images.refused("A file name must not be a path.")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in name):
        raise images.refused("The file name holds control or invisible characters.")
    if len(name) > MAX_FILENAME:
        raise images.refused(f"The file name is longer than {MAX_FILENAME} characters.", "TOO_LONG")
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or extension.lower() not in NAME_EXTENSIONS[format]:
        raise images.refused(
            f"The file holds a {format.upper()} image, but its name says otherwise: name it "
            f"{stem or name}.{sorted(NAME_EXTENSIONS[format])[0]}."
        )
    return name


@dataclass(frozen=True)
class Prepared:
    """An upload checked, normalised and stored, ready for its row."""

    picture: images.Picture
    filename: str
    sha256: str


async def prepare(
    storage: Storage, actor: Viewer, *, filename: str | None, data: bytes
) -> Prepared:
    """Decode, check and store an upload, outside any transaction: the image work takes
    hundreds of milliseconds, and on SQLite a write transaction holds every writer back.
    Stored before its row commits: should that fail, an unreferenced file is left, which a
    later upload of the same bytes takes over."""
    if not policy.may_upload_media(actor):
        raise Forbidden("Sign in as staff to upload.")
    picture = await off_the_loop(images.normalise, data, lane=IMAGES)
    name = clean_filename(filename, picture.format)
    sha256 = hashlib.sha256(picture.data).hexdigest()
    await storage.put(
        presets.original_key(sha256, picture.extension), picture.data, picture.mime_type
    )
    return Prepared(picture, name, sha256)


async def add(
    session: AsyncSession,
    actor: Viewer,
    prepared: Prepared,
    *,
    alt: str | None = None,
    caption: str | None = None,
) -> models.Media:
    """The library's entry for a prepared upload: bytes already in the library return
    that entry."""
    existing = await MediaRepository(session).by_sha256(prepared.sha256)
    if existing is not None:
        return existing
    picture = prepared.picture
    media = models.Media(
        sha256=prepared.sha256,
        filename=prepared.filename,
        format=picture.format,
        mime_type=picture.mime_type,
        bytes=len(picture.data),
        width=picture.width,
        height=picture.height,
        alt=alt,
        caption=caption,
        uploaded_by=actor.user_id,
    )
    session.add(media)
    await session.flush()
    record(
        session, PendingEvent("media.uploaded", f"media:{media.id}", {"media": event_data(media)})
    )
    return media


async def update(
    session: AsyncSession, actor: Viewer, id: int, changes: Mapping[str, Any]
) -> models.Media:
    media = await _changeable(session, actor, id)
    for field in ("focal_x", "focal_y"):
        value = changes.get(field)
        if value is not None and not 0.0 <= value <= 1.0:
            raise InvalidInput.one(
                "A focal point is given as fractions of the width and height, 0 to 1.",
                field=("focalPoint", field[-1]),
            )
    for field in EDITABLE:
        if field in changes:
            setattr(media, field, changes[field])
    await session.flush()
    return media


async def delete(session: AsyncSession, actor: Viewer, id: int) -> models.Media:
    """Refused while content names the file; the caller removes its bytes after commit."""
    media = await _changeable(session, actor, id)
    uses = await MediaRepository(session).uses(media.sha256)
    if uses:
        shown = ", ".join(uses[:10]) + (" …" if len(uses) > 10 else "")
        raise InvalidInput.one(
            f"The file is in use ({shown}): remove it from there first.", code="IN_USE"
        )
    data = event_data(media)
    await session.delete(media)
    record(session, PendingEvent("media.deleted", f"media:{id}", {"media": data}))
    return media


async def _changeable(session: AsyncSession, actor: Viewer, id: int) -> models.Media:
    if not actor.is_staff:
        raise Forbidden("Sign in as staff to change media.")
    media = await MediaRepository(session).get(id)
    if media is None:
        raise NotFound("No such media.")
    if not policy.may_change_media(actor, media):
        raise Forbidden("Only editors change files others uploaded.")
    return media


def event_data(media: models.Media) -> dict[str, Any]:
    return {
        "id": to_global_id("Media", media.id),
        "filename": media.filename,
        "mimeType": media.mime_type,
        "bytes": media.bytes,
        "width": media.width,
        "height": media.height,
        "path": f"/media/{media.sha256}.{images.extension(media.format)}",
    }
