"""What a caller may read, as where-clauses that every repository statement carries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement


@dataclass(frozen=True)
class Scope:
    """Built by `service.policy.read_scope`; rows outside it are simply not found."""

    posts: ColumnElement[bool]  # over models.Post
    tags: ColumnElement[bool]  # over models.Tag
    authors: ColumnElement[bool]  # over models.User
    now: datetime  # the instant "published" is measured against, fixed for one request
