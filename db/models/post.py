"""Posts and pages share one table (as in Ghost), told apart by `type`, plus their ordered links."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    case,
)
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow


class PostType(enum.Enum):
    POST = "post"
    PAGE = "page"


class PostStatus(enum.Enum):
    """Stored status. A SCHEDULED row whose `published_at` has passed reads as PUBLISHED
    (`Post.status_at`)."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"


def _enum(enum_cls: type[enum.Enum]) -> Enum:
    return Enum(
        enum_cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]
    )


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("type", "slug"),
        Index("ix_posts_type_published_at", "type", "published_at"),
        # The scheduler's search for scheduled posts whose time has come.
        Index("ix_posts_status_published_at", "status", "published_at"),
        # Ids are never reused, so a preview token cannot outlive its post.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[PostType] = mapped_column(_enum(PostType))
    status: Mapped[PostStatus] = mapped_column(_enum(PostStatus), default=PostStatus.DRAFT)
    title: Mapped[str] = mapped_column(String(255))
    slug: Mapped[str] = mapped_column(String(191))
    markdown: Mapped[str | None] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    plaintext: Mapped[str | None] = mapped_column(Text)
    custom_excerpt: Mapped[str | None] = mapped_column(String(300))
    # The custom excerpt, else the body's start (service.rendering.excerpt): kept when
    # written, read as it is by both read paths.
    excerpt: Mapped[str | None] = mapped_column(Text)
    reading_time: Mapped[int] = mapped_column(Integer, default=0)
    feature_image: Mapped[str | None] = mapped_column(String(2000))
    feature_image_alt: Mapped[str | None] = mapped_column(String(191))
    feature_image_caption: Mapped[str | None] = mapped_column(Text)
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    meta_title: Mapped[str | None] = mapped_column(String(300))
    meta_description: Mapped[str | None] = mapped_column(String(500))
    canonical_url: Mapped[str | None] = mapped_column(String(2000))
    og_image: Mapped[str | None] = mapped_column(String(2000))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The id this row had in a Ghost export, so importing the same file again updates it.
    ghost_id: Mapped[str | None] = mapped_column(String(40), unique=True, index=True)

    def _status_at(self, now: datetime) -> PostStatus:
        """The status readers see at `now`: a schedule whose time has come reads PUBLISHED."""
        due = self.published_at is not None and self.published_at <= now
        return PostStatus.PUBLISHED if self.status is PostStatus.SCHEDULED and due else self.status

    @classmethod
    def _status_at_in_sql(cls, now: datetime) -> ColumnElement[PostStatus]:
        due = and_(cls.status == PostStatus.SCHEDULED, cls.published_at <= now)
        return case((due, PostStatus.PUBLISHED.value), else_=cls.status)

    # The one definition of the rule, on a loaded row and in SQL alike (the general path and
    # the compiled path each use it; `aliased(Post, subquery)` applies it to a subquery's rows).
    status_at = hybrid_method(_status_at, _status_at_in_sql)

    def _is_public_at(self, now: datetime) -> bool:
        """Whether anonymous readers see it at `now`: not a draft, and its time has come."""
        due = self.published_at is not None and self.published_at <= now
        return self.status is not PostStatus.DRAFT and due

    @classmethod
    def _is_public_at_in_sql(cls, now: datetime) -> ColumnElement[bool]:
        return and_(cls.status != PostStatus.DRAFT, cls.published_at <= now)

    is_public_at = hybrid_method(_is_public_at, _is_public_at_in_sql)


class PostAuthor(Base):
    """An author of a post, in order: the one with the lowest `sort_order` is primary."""

    __tablename__ = "posts_authors"
    __table_args__ = (Index("ix_posts_authors_post_id_sort_order", "post_id", "sort_order"),)

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    author_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class PostTag(Base):
    """A tag of a post, in order: the one with the lowest `sort_order` is primary."""

    __tablename__ = "posts_tags"
    __table_args__ = (Index("ix_posts_tags_post_id_sort_order", "post_id", "sort_order"),)

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
