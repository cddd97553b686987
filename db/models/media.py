"""Uploaded images: one row per distinct content (the stored bytes' sha256), with the text an
editor gives it. The bytes themselves live in the media storage (service/media/storage.py),
under names derived from the hash; their preset sizes are made on first request."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow


class Media(Base):
    __tablename__ = "media"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    # The name it was uploaded with, made safe (it never names a file on disk).
    filename: Mapped[str] = mapped_column(String(255), index=True)
    format: Mapped[str] = mapped_column(String(10))  # jpeg, png, gif, webp, avif
    mime_type: Mapped[str] = mapped_column(String(40), index=True)
    bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    alt: Mapped[str | None] = mapped_column(Text)
    caption: Mapped[str | None] = mapped_column(Text)
    # Where crops keep their centre, as fractions of the width and height (0.5, 0.5: middle).
    focal_x: Mapped[float] = mapped_column(Float, default=0.5)
    focal_y: Mapped[float] = mapped_column(Float, default=0.5)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
