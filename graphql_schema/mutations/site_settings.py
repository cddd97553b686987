"""Site settings (administrators and the owner)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from graphql_schema.context import Info
from graphql_schema.inputs import as_utc
from graphql_schema.mutations.common import (
    UserError,
    in_transaction,
    provided,
    require_staff,
)
from graphql_schema.types.site_settings import Settings
from service import site_settings


@strawberry.input(description="A navigation link.")
class NavigationItemInput:
    label: str = strawberry.field(description="Link text (at most 100 characters).")
    url: str = strawberry.field(description="An http(s) URL or a path on the site ('/about/').")


@strawberry.input(description="Changes to the settings; omitted fields stay as they are.")
class UpdateSettingsInput:
    expected_updated_at: datetime | None = strawberry.field(
        default=None,
        description="When the settings you loaded were saved; a later change is a CONFLICT.",
    )
    title: str | None = strawberry.field(default=strawberry.UNSET, description="The site's name.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Tagline.")
    url: str | None = strawberry.field(
        default=strawberry.UNSET, description="Public URL of the site."
    )
    logo: str | None = strawberry.field(default=strawberry.UNSET, description="Logo URL.")
    icon: str | None = strawberry.field(default=strawberry.UNSET, description="Favicon URL.")
    cover_image: str | None = strawberry.field(
        default=strawberry.UNSET, description="Cover image URL."
    )
    accent_color: str | None = strawberry.field(
        default=strawberry.UNSET, description="Brand colour, #rrggbb."
    )
    locale: str | None = strawberry.field(
        default=strawberry.UNSET, description="BCP 47 language tag."
    )
    timezone: str | None = strawberry.field(default=strawberry.UNSET, description="IANA time zone.")
    navigation: list[NavigationItemInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Primary navigation, replacing the old list."
    )
    secondary_navigation: list[NavigationItemInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Secondary navigation, replacing the old list."
    )
    meta_title: str | None = strawberry.field(
        default=strawberry.UNSET, description="Title for search engines."
    )
    meta_description: str | None = strawberry.field(
        default=strawberry.UNSET, description="Description for search engines."
    )


@strawberry.type(description="The result of updateSettings.")
class UpdateSettingsPayload:
    settings: Settings | None = strawberry.field(description="The settings after the change.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type
class SettingsMutations:
    @strawberry.mutation(description="Change the site settings (administrators).")
    async def update_settings(
        self,
        info: Info,
        input: Annotated[UpdateSettingsInput, strawberry.argument(description="What to do.")],
    ) -> UpdateSettingsPayload:
        actor = require_staff(info)
        changes = provided(input, site_settings.PLAIN_FIELDS)
        for name in site_settings.NAVIGATION_FIELDS:
            items = getattr(input, name)
            if items is not strawberry.UNSET:
                changes[name] = [{"label": item.label, "url": item.url} for item in items or []]
        expected = as_utc(input.expected_updated_at)
        stored, errors = await in_transaction(
            info,
            lambda session: site_settings.update(
                session, actor, changes, expected_updated_at=expected
            ),
        )
        return UpdateSettingsPayload(
            settings=None if stored is None else Settings.from_model(stored), user_errors=errors
        )
