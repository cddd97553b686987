"""Cached answers to anonymous reads, shared by nothing but the database's content version.

Each worker keeps its own bounded cache. Before serving from it, a request reads the
generation with one small statement: the content version (moved by triggers in the very
transaction that changes content, see migration 0006) and the next scheduled publication
still to come. An entry serves only the generation it was made in, so a write on any worker
is seen by the next read on every worker, and a scheduled post coming due changes the
generation at its time, without any job."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cachetools import LRUCache

from db.base import utcnow
from db.models import PostType
from graphql_schema import http_caching
from graphql_schema.compiled.read_pool import ReadPool

# The next time a post not yet visible becomes visible by the clock alone: the negation of
# policy.public_posts' time condition, over the rows its status condition admits. Naming
# every type lets the (type, published_at) index find the few rows dated ahead.
GENERATION_SQL = f"""
SELECT (SELECT version FROM content_version WHERE id = 1),
       (SELECT min(published_at) FROM posts
         WHERE type IN ({", ".join(f"'{t.value}'" for t in PostType)})
           AND status <> 'draft' AND published_at > $1)
"""
MAX_BODY_BYTES = 1_000_000
MAX_CACHED_BYTES = 64_000_000  # per worker

Generation = tuple[int, datetime | None]


@dataclass(frozen=True)
class CachedResponse:
    body: bytes
    generation: Generation | None  # None: made without reading the generation
    shareable: bool = True  # False: an error no cache may keep (no ETag either)

    @functools.cached_property
    def digest(self) -> str:
        """Hashed only when a GET needs an ETag (and then once per cached answer)."""
        return http_caching.digest(self.body)

    def etag(self, media_type: str) -> str:
        return http_caching.etag(self.digest, media_type)


class ResponseCache:
    def __init__(self, pool: ReadPool, *, max_bytes: int = MAX_CACHED_BYTES) -> None:
        self.pool = pool
        # Bounded by bytes: clients choose the documents, variables and so the sizes.
        self._entries: LRUCache[Any, CachedResponse] = LRUCache(
            max_bytes, getsizeof=lambda entry: len(entry.body)
        )
        self.hits = 0

    async def generation(self) -> Generation | None:
        """None when the version cannot be read (the response is then simply not cached)."""
        row = await self.pool.fetchrow(GENERATION_SQL, utcnow())
        if row is None or row[0] is None:
            return None
        return row[0], row[1]

    def get(self, key: Any, generation: Generation) -> CachedResponse | None:
        entry = self._entries.get(key)
        if entry is None or entry.generation != generation:
            return None
        self.hits += 1
        return entry

    def put(self, key: Any, generation: Generation, body: bytes) -> CachedResponse:
        entry = CachedResponse(body, generation)
        if len(body) <= MAX_BODY_BYTES:
            self._entries[key] = entry
        return entry
