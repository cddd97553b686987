"""Site settings: one row (id 1) holding what a frontend needs to render the site chrome."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow

SETTINGS_ROW_ID = 1


class SiteSettings(Base):
    __tablename__ = "settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=SETTINGS_ROW_ID)
    title: Mapped[str] = mapped_column(String(150), default="Broadsheet")
    description: Mapped[str | None] = mapped_column(String(500))
    url: Mapped[str] = mapped_column(String(2000), default="http://localhost:8000")
    logo: Mapped[str | None] = mapped_column(String(2000))
    icon: Mapped[str | None] = mapped_column(String(2000))
    cover_image: Mapped[str | None] = mapped_column(String(2000))
    accent_color: Mapped[str | None] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(50), default="en")
    timezone: Mapped[str] = mapped_column(String(50), default="Etc/UTC")
    # Lists of {"label": ..., "url": ...}, in display order.
    navigation: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    secondary_navigation: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    meta_title: Mapped[str | None] = mapped_column(String(300))
    meta_description: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
