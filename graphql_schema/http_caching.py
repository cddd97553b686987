"""HTTP caching of GraphQL answers, the same on both read paths: what a shared cache (a CDN,
a proxy) may keep, for how long, and the ETag that turns a revalidation into a 304.

Anonymous readers and CONTENT keys read the same published content, so their GET answers
are public; staff answers and every POST are for no cache to keep."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from service import cache_tags
from service.etags import matches

__all__ = ["CachePolicy", "digest", "etag", "matches"]
from dataclasses import dataclass

# What changes the answer besides the URL: a shared cache must keep them apart.
VARY = "Accept, Authorization, X-API-Key"
PRIVATE = "private, no-store"  # staff and ADMIN keys
NO_STORE = "no-store"  # POSTs, and answers with errors


@dataclass(frozen=True)
class CachePolicy:
    """How long shared caches may serve a public answer without asking (s-maxage), and how
    long after that they may serve it while they ask. Zero: they ask every time (ETag)."""

    s_maxage: int = 0
    stale_while_revalidate: int = 0
    # Where public answers name their cache tags: space-separated (Fastly's Surrogate-Key)
    # and comma-separated (Cloudflare's Cache-Tag). Empty: not sent.
    surrogate_key_header: str = "Surrogate-Key"
    cache_tag_header: str = "Cache-Tag"

    @property
    def public(self) -> str:
        if self.s_maxage <= 0:
            return "public, no-cache"
        # max-age=0: browsers ask every time; the shared cache in front answers them.
        header = f"public, max-age=0, s-maxage={self.s_maxage}"
        if self.stale_while_revalidate > 0:
            header += f", stale-while-revalidate={self.stale_while_revalidate}"
        return header

    def tag_headers(self, tags: Sequence[str]) -> list[tuple[str, str]]:
        """The headers naming `tags`: all of them when they fit the CDNs' limit, else each
        object's tag replaced by its list's (coarser: it purges more, never less)."""
        if sum(len(tag) + 1 for tag in tags) > MAX_TAG_HEADER_BYTES:
            tags = sorted({_coarse(tag) for tag in tags})
        headers = []
        if self.surrogate_key_header:
            headers.append((self.surrogate_key_header, " ".join(tags)))
        if self.cache_tag_header:
            headers.append((self.cache_tag_header, ",".join(tags)))
        return headers


REVALIDATE = CachePolicy()  # the default: caches keep answers but ask each time
# Fastly's Surrogate-Key and Cloudflare's Cache-Tag both take 16 kB.
MAX_TAG_HEADER_BYTES = 16_000


def _coarse(tag: str) -> str:
    """`post:<id>` -> `list:posts`; list, settings and site tags as they are."""
    kind, _, rest = tag.partition(":")
    return tag if not rest or kind == "list" else cache_tags.list_of(kind)


def digest(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


def etag(body_digest: str, media_type: str) -> str:
    """A strong ETag, quoted as it goes in the header; one per media type, as the headers
    differ."""
    suffix = "" if media_type.startswith("application/json") else "-gr"
    return f'"{body_digest}{suffix}"'
