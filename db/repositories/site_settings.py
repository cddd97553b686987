"""The site settings row, read by everyone."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.base import utcnow
from db.models.site_settings import SETTINGS_ROW_ID


class SiteSettingsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self) -> models.SiteSettings:
        """The stored settings, or the defaults (unsaved) before anything was stored."""
        stored = await self.session.get(models.SiteSettings, SETTINGS_ROW_ID)
        return stored or default_settings()


def default_settings() -> models.SiteSettings:
    return models.SiteSettings(
        id=SETTINGS_ROW_ID,
        title="Broadsheet",
        url="http://localhost:8000",
        locale="en",
        timezone="Etc/UTC",
        navigation=[],
        secondary_navigation=[],
        updated_at=utcnow(),
    )
