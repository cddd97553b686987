"""Persisted queries: Apollo's automatic persisted queries (APQ) and an optional allow-list.

A client sends `extensions.persistedQuery = {version: 1, sha256Hash}` with or without the
document. Without it, a known hash runs its stored document and an unknown one answers
PersistedQueryNotFound, so the client retries with the document, which is checked against
the hash and stored (in the database, so every worker knows it). With `only_registered`,
nothing but documents an operator registered may run.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache

from db.engine import Database
from db.repositories import PersistedQueryRepository

log = logging.getLogger(__name__)

APQ_VERSION = 1
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
CACHE_SIZE = 1000  # documents kept in process memory (a hash's document never changes)


class PersistedQueryError(Exception):
    """A persisted-query request that cannot run; `code` is its GraphQL `extensions.code`."""

    code = "BAD_REQUEST"
    # Malformed requests (a bad extension, a wrong hash) are HTTP 400 whatever the media type.
    malformed = False

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.extensions = extensions


class PersistedQueryNotFound(PersistedQueryError):
    """The hash is unknown: send the document with it. Message and code are Apollo's, which its
    clients match to retry."""

    code = "PERSISTED_QUERY_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("PersistedQueryNotFound")


class PersistedQueryMalformed(PersistedQueryError):
    malformed = True


class PersistedQueryNotAllowed(PersistedQueryError):
    """Only registered documents may run, and this one is not."""

    code = "PERSISTED_QUERY_NOT_IN_LIST"


class PersistedQueryTooLarge(PersistedQueryError):
    code = "QUERY_TOO_COMPLEX"


def sha256_hex(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


@dataclass(frozen=True)
class PersistedQuerySettings:
    max_bytes: int = 100_000
    max_entries: int = 10_000
    only_registered: bool = False


@dataclass(frozen=True)
class Lookup:
    """The document a request runs, and whether it is new and should be stored once it has
    proved valid (stored only then, so the table never fills with documents that fail)."""

    document: str | None
    sha256: str | None = None
    new: bool = False


@dataclass(frozen=True)
class _Entry:
    document: str
    registered: bool


class PersistedQueries:
    """The rules, over the database and a read-through in-process cache."""

    def __init__(self, db: Database, settings: PersistedQuerySettings) -> None:
        self.db = db
        self.settings = settings
        self._cache: LRUCache[str, _Entry] = LRUCache(CACHE_SIZE)
        self._full_warned = False

    async def resolve(self, document: str | None, extensions: Mapping[str, Any] | None) -> Lookup:
        """The document to run for a request's `query` and `extensions`; raises a
        PersistedQueryError when there is none it may run."""
        extension = (extensions or {}).get("persistedQuery")
        if extension is None:
            if self.settings.only_registered and document:
                return await self._registered_only(document)
            return Lookup(document)
        digest = _requested_hash(extension)
        if not document:
            entry = await self._get(digest)
            if entry is None or (self.settings.only_registered and not entry.registered):
                raise PersistedQueryNotFound
            return Lookup(entry.document, digest)
        size = len(document.encode())
        if size > self.settings.max_bytes:
            raise PersistedQueryTooLarge(
                f"Persisted query too large: {size} bytes exceeds the limit of "
                f"{self.settings.max_bytes} (BROADSHEET_PERSISTED_QUERY_MAX_BYTES).",
                limit="persistedQueryBytes",
                max=self.settings.max_bytes,
                actual=size,
            )
        if sha256_hex(document) != digest:
            raise PersistedQueryMalformed("provided sha does not match query")
        if self.settings.only_registered:
            return await self._registered_only(document, digest)
        entry = await self._get(digest)
        return Lookup(document, digest, new=entry is None)

    async def remember(self, lookup: Lookup) -> None:
        """Store a new document that has just run (parsed and validated)."""
        if not lookup.new or lookup.document is None or lookup.sha256 is None:
            return
        async with self.db.write_sessions.begin() as session:
            repository = PersistedQueryRepository(session)
            # Clients choose what gets stored: a bound keeps them from filling the database.
            # Past it, documents still run; they are just not remembered.
            if await repository.count() >= self.settings.max_entries:
                if not self._full_warned:
                    log.warning(
                        "persisted queries: %d stored, the BROADSHEET_PERSISTED_QUERY_MAX_ENTRIES "
                        "limit; new documents are not stored",
                        self.settings.max_entries,
                    )
                    self._full_warned = True
                return
            await repository.add(lookup.sha256, lookup.document)
        self._cache[lookup.sha256] = _Entry(lookup.document, registered=False)

    async def register(self, documents: Iterable[str]) -> list[str]:
        """Register documents as an operator (they run in allow-list mode; no size or count
        limit applies); return their hashes."""
        hashes: list[str] = []
        async with self.db.write_sessions.begin() as session:
            repository = PersistedQueryRepository(session)
            for document in documents:
                digest = sha256_hex(document)
                await repository.add(digest, document, registered=True)
                hashes.append(digest)
        return hashes

    async def _registered_only(self, document: str, digest: str | None = None) -> Lookup:
        digest = digest or sha256_hex(document)
        entry = await self._get(digest)
        if entry is None or not entry.registered:
            raise PersistedQueryNotAllowed(
                "Only registered documents run on this server (BROADSHEET_PERSISTED_QUERIES_ONLY)."
            )
        return Lookup(document, digest)

    async def _get(self, digest: str) -> _Entry | None:
        entry = self._cache.get(digest)
        if entry is not None:
            return entry
        async with self.db.read_sessions() as session:
            row = await PersistedQueryRepository(session).get(digest)
        if row is None:
            return None  # never cached: another worker may store it any moment
        entry = _Entry(row.document, row.registered)
        if row.registered or not self.settings.only_registered:
            # An unregistered row may be registered later, which allow-list mode must see.
            self._cache[digest] = entry
        return entry


def _requested_hash(extension: object) -> str:
    if not isinstance(extension, Mapping):
        raise PersistedQueryMalformed("extensions.persistedQuery must be an object.")
    if extension.get("version") != APQ_VERSION:
        raise PersistedQueryMalformed("Unsupported persisted query version (send version 1).")
    digest = extension.get("sha256Hash")
    if not isinstance(digest, str) or not SHA256_HEX.fullmatch(digest):
        raise PersistedQueryMalformed(
            "extensions.persistedQuery.sha256Hash must be a hex SHA-256 (64 lower-case digits)."
        )
    return digest
