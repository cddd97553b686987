"""The per-request GraphQL context: who is asking, what they may read, and the loaders."""

from __future__ import annotations

from datetime import timedelta
from typing import TypeAlias

import strawberry
from strawberry.fastapi import BaseContext

from db.engine import Database
from db.repositories import Scope
from graphql_schema.loaders import Loaders
from service.media.files import MediaFiles
from service.policy import Viewer, read_scope, read_scope_is_public
from service.preview import PreviewSigner
from service.webhooks import TargetRules

# Outside production: plain http allowed, private targets not, as in the settings' defaults.
DEFAULT_WEBHOOK_RULES = TargetRules(
    allow_http=True, allow_private=False, secret_overlap=timedelta(hours=24)
)


class Context(BaseContext):
    def __init__(
        self,
        *,
        viewer: Viewer,
        db: Database,
        preview: PreviewSigner,
        webhook_rules: TargetRules = DEFAULT_WEBHOOK_RULES,
        media: MediaFiles | None = None,
        media_url: str | None = None,
    ) -> None:
        super().__init__()
        self.media = media
        self.media_url = media_url
        self.viewer = viewer
        # Anonymous readers read from the replica, if any; staff read their own writes.
        self.db = db.public if read_scope_is_public(viewer) else db
        self.preview = preview
        self.webhook_rules = webhook_rules
        # Fixed once, so "now" (what is published) is the same for every field of a request.
        self.scope: Scope = read_scope(viewer)
        self.loaders = Loaders(db=self.db, scope=self.scope)

    def media_base(self) -> str:
        """Where /media is served: BROADSHEET_MEDIA_URL, or the address this request came to."""
        if self.media_url:
            return self.media_url.rstrip("/")
        assert self.request is not None  # set by the router for every HTTP request
        return str(self.request.base_url).rstrip("/")

    def reset_loaders(self) -> None:
        self.loaders = Loaders(db=self.db, scope=self.scope)


Info: TypeAlias = strawberry.Info[Context, None]
