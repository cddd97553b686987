"""Site settings: what a frontend needs for the site's chrome."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

import strawberry

from db import models
from graphql_schema.types.stored import from_row


@strawberry.type(description="A navigation link.")
class NavigationItem:
    label: str = strawberry.field(description="Link text.")
    url: str = strawberry.field(description="Where it points (absolute or site-relative).")


@strawberry.type(description="Site-wide settings, readable by anyone.")
class Settings:
    title: str = strawberry.field(description="The site's name.")
    description: str | None = strawberry.field(description="The site's tagline.")
    url: str = strawberry.field(description="The public URL of the site.")
    logo: str | None = strawberry.field(description="URL of the logo.")
    icon: str | None = strawberry.field(description="URL of the favicon.")
    cover_image: str | None = strawberry.field(description="URL of the site's cover image.")
    accent_color: str | None = strawberry.field(description="Brand colour, as #rrggbb.")
    locale: str = strawberry.field(description="Language of the content (BCP 47, e.g. 'en').")
    timezone: str = strawberry.field(description="IANA time zone of the publication.")
    navigation: list[NavigationItem] = strawberry.field(description="Primary navigation.")
    secondary_navigation: list[NavigationItem] = strawberry.field(
        description="Secondary (footer) navigation."
    )
    meta_title: str | None = strawberry.field(description="Title for search engines.")
    meta_description: str | None = strawberry.field(description="Description for search engines.")
    updated_at: datetime = strawberry.field(
        description="When the settings were last saved (pass it as expectedUpdatedAt)."
    )

    @classmethod
    def from_model(cls, settings: models.SiteSettings) -> Self:
        return from_row(
            cls,
            settings,
            navigation=_items(settings.navigation),
            secondary_navigation=_items(settings.secondary_navigation),
        )


def _items(stored: list[dict[str, Any]]) -> list[NavigationItem]:
    return [NavigationItem(label=item["label"], url=item["url"]) for item in stored]
