"""Which API keys read what anonymous readers read: CONTENT keys, the ones a site's frontend
sends. The compiled path and the cache front answer those requests as anonymous ones; an
ADMIN key or a bad one is the general path's to answer."""

from __future__ import annotations

import hashlib

from cachetools import TTLCache

from service.auth import Authenticator
from service.errors import Unauthenticated
from service.policy import read_scope_is_public

SECONDS = 10.0
REMEMBERED = 1024


class ContentKeys:
    """Judges API keys, and remembers the CONTENT keys it judged for SECONDS: a frontend sends
    its key with every request, and a cache hit should cost no statement. A key revoked
    meanwhile reads on, for at most that long, what anonymous readers read anyway."""

    def __init__(self, authenticator: Authenticator, *, remember: bool = True) -> None:
        self.authenticator = authenticator
        # Off in verify mode: there both paths must judge every key alike, revoked ones too.
        self.remember = remember
        # By digest: the keys themselves are the client's choice of bytes, and secrets.
        self._public: TTLCache[bytes, bool] = TTLCache(REMEMBERED, SECONDS)

    def remembered(self, api_key: bytes) -> bool:
        """Whether `api_key` was judged a CONTENT key within the last SECONDS."""
        return self.remember and hashlib.sha256(api_key).digest() in self._public

    async def public(self, api_key: bytes) -> bool:
        """Whether `api_key` reads what anonymous readers read (asks the database unless
        remembered)."""
        if self.remembered(api_key):
            return True
        try:
            viewer = await self.authenticator.viewer(
                authorization=None, api_key=api_key.decode("latin-1")
            )
        except Unauthenticated:
            return False
        public = read_scope_is_public(viewer)
        if public and self.remember:
            self._public[hashlib.sha256(api_key).digest()] = True
        return public
