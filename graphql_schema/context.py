"""The per-request GraphQL context: who is asking, what they may read, and the loaders."""

from __future__ import annotations

from typing import TypeAlias

import strawberry
from strawberry.fastapi import BaseContext

from db.engine import Database
from db.repositories import Scope
from graphql_schema.loaders import Loaders
from service.policy import Viewer, read_scope
from service.preview import PreviewSigner


class Context(BaseContext):
    def __init__(self, *, viewer: Viewer, db: Database, preview: PreviewSigner) -> None:
        super().__init__()
        self.viewer = viewer
        self.db = db
        self.preview = preview
        # Fixed once, so "now" (what is published) is the same for every field of a request.
        self.scope: Scope = read_scope(viewer)
        self.loaders = Loaders(db=db, scope=self.scope)

    def reset_loaders(self) -> None:
        self.loaders = Loaders(db=self.db, scope=self.scope)


Info: TypeAlias = strawberry.Info[Context, None]
