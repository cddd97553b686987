"""Reading media files, and making a preset size on its first request; the small files most
asked for are kept in memory (per worker: a name's bytes never change, so nothing goes
stale except what a deletion removes)."""

from __future__ import annotations

import asyncio

from cachetools import LRUCache
from sqlalchemy import select

from db import models
from db.engine import Database
from service.media import images, presets
from service.media.library import IMAGES
from service.media.storage import Storage
from service.offload import off_the_loop

MAX_KEPT_BYTES = 64_000_000
MAX_KEPT_FILE = 1_000_000


class MediaFiles:
    """Reads (and makes) the files, keeping the small ones in memory."""

    def __init__(self, storage: Storage, db: Database) -> None:
        self.storage = storage
        self.db = db
        self._kept: LRUCache[str, bytes] = LRUCache(MAX_KEPT_BYTES, getsizeof=len)
        self._making: dict[str, asyncio.Task[bytes | None]] = {}

    async def read(self, asked: presets.Asked) -> bytes | None:
        data = self._kept.get(asked.key)
        if data is None:
            data = await self.storage.get(asked.key)
            if data is None and asked.preset is not None:
                # Requests for one new size at once share its making.
                making = self._making.get(asked.key)
                if making is None:
                    making = asyncio.get_running_loop().create_task(self._make(asked))
                    self._making[asked.key] = making
                    making.add_done_callback(lambda _: self._making.pop(asked.key, None))
                data = await asyncio.shield(making)
            if data is not None and len(data) <= MAX_KEPT_FILE:
                self._kept[asked.key] = data
        return data

    async def _make(self, asked: presets.Asked) -> bytes | None:
        preset = asked.preset
        assert preset is not None
        async with self.db.read_sessions() as session:
            media = await session.scalar(
                select(models.Media).where(models.Media.sha256 == asked.sha256)
            )
        if media is None:
            return None  # never uploaded, or deleted
        original_key = presets.original_key(media.sha256, images.extension(media.format))
        original = await self.storage.get(original_key)
        if original is None:
            return None
        made = await off_the_loop(
            lambda: images.render(
                original,
                width=preset.width,
                height=preset.height,
                format=presets.EXTENSIONS[asked.extension],
                focal=(media.focal_x, media.focal_y),
            ),
            lane=IMAGES,
        )
        await self.storage.put(asked.key, made.data, made.mime_type)
        return made.data

    async def remove(self, media: models.Media) -> None:
        """A deleted file: the original and every size it may have (each name is known: no
        listing needed), deleted concurrently (a store over the network answers each in
        turn), and what this worker keeps of them."""
        keys = [presets.original_key(media.sha256, images.extension(media.format))]
        keys += [
            presets.size_key(media.sha256, preset, extension)
            for preset in presets.PRESETS.values()
            for extension in presets.EXTENSIONS
        ]
        await self._delete(media.sha256, keys)

    async def remove_crops(self, media: models.Media) -> None:
        """The crops made around an earlier focal point: made again on their next request."""
        keys = [
            presets.size_key(media.sha256, preset, extension)
            for preset in presets.PRESETS.values()
            if preset.height is not None
            for extension in presets.EXTENSIONS
        ]
        await self._delete(media.sha256, keys)

    async def _delete(self, sha256: str, keys: list[str]) -> None:
        await asyncio.gather(*(self.storage.delete(key) for key in keys))
        for key in [key for key in self._kept if sha256 in key]:
            self._kept.pop(key, None)
