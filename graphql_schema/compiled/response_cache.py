"""Cached answers to anonymous reads, shared by nothing but the database's content version.

Each worker keeps its own bounded cache. An entry serves only the generation it was made in
(generation.py: the content version, pushed to every worker when it moves, and the next
scheduled publication), so a write on any worker is seen by the next read on every worker
once its notification arrives, and a scheduled post coming due changes the generation at its
time, without any job. An answer is filed under the version read in its own statement: one
read from a replica that is behind is never kept as the primary's current content."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from cachetools import LRUCache

from graphql_schema import http_caching
from graphql_schema.compiled.generation import Generation, Generations

MAX_BODY_BYTES = 1_000_000
MAX_CACHED_BYTES = 64_000_000  # per worker


@dataclass(frozen=True)
class CachedResponse:
    body: bytes
    generation: Generation | None  # None: made without reading the generation
    shareable: bool = True  # False: an error no cache may keep (no ETag either)
    tags: tuple[str, ...] = ()  # what the answer depends on (http_caching.tag_headers)
    _headers: dict[str, list[tuple[bytes, bytes]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @functools.cached_property
    def digest(self) -> str:
        """Hashed only when a GET needs an ETag (and then once per cached answer)."""
        return http_caching.digest(self.body)

    def etag(self, media_type: str) -> str:
        return http_caching.etag(self.digest, media_type)

    def public_headers(
        self, media_type: str, caching: http_caching.CachePolicy
    ) -> list[tuple[bytes, bytes]]:
        """What a shared cache is told of this answer (a GET's): made once per media type,
        as a cached answer is sent many times. (An app has one policy.)"""
        headers = self._headers.get(media_type)
        if headers is None:
            headers = [
                (b"etag", self.etag(media_type).encode()),
                (b"cache-control", caching.public.encode()),
                (b"vary", http_caching.VARY.encode()),
            ]
            headers += [(k.encode(), v.encode()) for k, v in caching.tag_headers(self.tags)]
            self._headers[media_type] = headers
        return headers


class ResponseCache:
    def __init__(self, generations: Generations, *, max_bytes: int = MAX_CACHED_BYTES) -> None:
        self.generations = generations
        # Bounded by bytes: clients choose the documents, variables and so the sizes.
        self._entries: LRUCache[Any, CachedResponse] = LRUCache(
            max_bytes, getsizeof=lambda entry: len(entry.body)
        )
        self.hits = 0

    async def generation(self) -> Generation | None:
        return await self.generations.current()

    def get(self, key: Any, generation: Generation) -> CachedResponse | None:
        entry = self._entries.get(key)
        if entry is None or entry.generation != generation:
            return None
        self.hits += 1
        return entry

    def put(
        self, key: Any, generation: Generation, body: bytes, tags: tuple[str, ...]
    ) -> CachedResponse:
        entry = CachedResponse(body, generation, tags=tags)
        if len(body) <= MAX_BODY_BYTES:
            self._entries[key] = entry
        return entry

    async def close(self) -> None:
        await self.generations.close()
