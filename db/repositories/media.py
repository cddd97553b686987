"""Uploaded media: lookups, the staff library's pages, and where content uses a file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.repositories.filters import MediaOrderField, Order
from db.repositories.pagination import PageArgs, Slice, SortKey, fetch_slice

Media = models.Media
DEFAULT_ORDER = (Order(MediaOrderField.CREATED_AT, descending=True),)  # newest first


def sort_keys(order: Sequence[Order[MediaOrderField]]) -> list[SortKey]:
    """The ORDER BY terms for `order`, ending with the id so the order is total."""
    keys = [
        SortKey("created_at", Media.created_at, term.descending, kind=datetime)
        if term.field is MediaOrderField.CREATED_AT
        else SortKey("filename", Media.filename, term.descending)
        for term in order or DEFAULT_ORDER
    ]
    return [*keys, SortKey("id", Media.id, keys[-1].descending, kind=int)]


@dataclass(frozen=True)
class MediaFilter:
    search: str | None = None  # in the file name, alt text or caption
    mime_type: str | None = None  # "image/png", or a family: "image/"


class MediaRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, id: int) -> models.Media | None:
        return await self.session.get(Media, id)

    async def by_sha256(self, sha256: str) -> models.Media | None:
        return await self.session.scalar(select(Media).where(Media.sha256 == sha256))

    async def get_many(self, ids: Sequence[int]) -> list[models.Media]:
        return list(await self.session.scalars(select(Media).where(Media.id.in_(ids))))

    def _filtered(self, media_filter: MediaFilter | None) -> Select[Any]:
        return select(Media).where(_clause(media_filter))

    async def page(
        self,
        args: PageArgs,
        media_filter: MediaFilter | None,
        order: Sequence[Order[MediaOrderField]] = (),
    ) -> Slice[models.Media]:
        stmt = self._filtered(media_filter)
        return await fetch_slice(self.session, stmt, sort_keys(order), args)

    async def count(self, media_filter: MediaFilter | None) -> int:
        stmt = select(func.count()).select_from(Media).where(_clause(media_filter))
        return int(await self.session.scalar(stmt) or 0)

    async def uses(self, sha256: str) -> list[str]:
        """Where content names the file (any of its sizes): "post:<slug>", "tag:<slug>",
        "author:<slug>", "settings". Bodies are searched as written (markdown)."""
        pattern = f"%{sha256}%"
        Post, Tag, User = models.Post, models.Tag, models.User
        found: list[str] = []
        posts = select(Post.type, Post.slug).where(
            or_(
                Post.feature_image.like(pattern),
                Post.og_image.like(pattern),
                Post.markdown.like(pattern),
            )
        )
        for type, slug in await self.session.execute(posts):
            found.append(f"{type.value}:{slug}")
        tags = select(Tag.slug).where(Tag.feature_image.like(pattern))
        found += [f"tag:{slug}" for slug in await self.session.scalars(tags)]
        users = select(User.slug).where(
            or_(User.profile_image.like(pattern), User.cover_image.like(pattern))
        )
        found += [f"author:{slug}" for slug in await self.session.scalars(users)]
        Settings = models.SiteSettings
        settings = select(Settings.id).where(
            or_(
                Settings.logo.like(pattern),
                Settings.icon.like(pattern),
                Settings.cover_image.like(pattern),
            )
        )
        if await self.session.scalar(settings) is not None:
            found.append("settings")
        return found


def _clause(media_filter: MediaFilter | None) -> ColumnElement[bool]:
    if media_filter is None:
        return true()
    clauses: list[ColumnElement[bool]] = []
    if media_filter.search:
        # Escaped: a % or _ typed by an editor is a character, not a wildcard.
        text = media_filter.search.lower()
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        clauses.append(
            or_(
                func.lower(Media.filename).like(pattern, escape="\\"),
                func.lower(Media.alt).like(pattern, escape="\\"),
                func.lower(Media.caption).like(pattern, escape="\\"),
            )
        )
    if media_filter.mime_type:
        if media_filter.mime_type.endswith("/"):
            clauses.append(Media.mime_type.startswith(media_filter.mime_type, autoescape=True))
        else:
            clauses.append(Media.mime_type == media_filter.mime_type)
    return and_(*clauses) if clauses else true()
