"""Tags: public topics, or internal ones (names starting with '#') that readers never see."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow


class TagVisibility(enum.Enum):
    PUBLIC = "public"
    INTERNAL = "internal"

    @classmethod
    def for_name(cls, name: str) -> TagVisibility:
        """Ghost's rule: a tag whose name starts with '#' is internal."""
        return cls.INTERNAL if name.startswith("#") else cls.PUBLIC


class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(191))
    slug: Mapped[str] = mapped_column(String(191), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    feature_image: Mapped[str | None] = mapped_column(String(2000))
    visibility: Mapped[TagVisibility] = mapped_column(
        Enum(
            TagVisibility,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=TagVisibility.PUBLIC,
    )
    meta_title: Mapped[str | None] = mapped_column(String(300))
    meta_description: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The id this row had in a Ghost export, so importing the same file again updates it.
    ghost_id: Mapped[str | None] = mapped_column(String(40), unique=True, index=True)
