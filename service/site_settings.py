"""Changing the site settings (administrators and the owner)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, overload

from sqlalchemy import ColumnElement, String, func, literal_column
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.base import utcnow
from db.models.site_settings import SETTINGS_ROW_ID
from db.repositories.site_settings import default_settings
from service import events, policy
from service.errors import Forbidden, InvalidInput
from service.policy import Viewer
from service.validation import Checker, camel

TEXT_LIMITS = {"description": 500, "meta_title": 300, "meta_description": 500}
URL_FIELDS = ("logo", "icon", "cover_image")
MAX_NAVIGATION_ITEMS = 50


@overload
def content_url(site_url: str, slug: str) -> str: ...
@overload
def content_url(site_url: ColumnElement[str], slug: ColumnElement[str]) -> ColumnElement[str]: ...
def content_url(site_url: Any, slug: Any) -> Any:
    """Where a post or page lives on the site: the site URL without its trailing slashes, then
    `/<slug>/`. One rule in two renderings: strings for the general path and webhooks, an SQL
    expression for the compiled path (`+` concatenates on both)."""
    base: Any
    slash: Any
    if isinstance(site_url, str):
        base, slash = site_url.rstrip("/"), "/"
    else:
        slash = literal_column("'/'", String)  # written in, as the planner's constants are
        base = func.rtrim(site_url, slash, type_=String)
    return base + slash + slug + slash


NAVIGATION_FIELDS = ("navigation", "secondary_navigation")
# What an update may change: plain values, then the two lists of links.
PLAIN_FIELDS = (
    "title",
    "description",
    "url",
    "logo",
    "icon",
    "cover_image",
    "accent_color",
    "locale",
    "timezone",
    "meta_title",
    "meta_description",
)
SETTINGS_FIELDS = (*PLAIN_FIELDS, *NAVIGATION_FIELDS)


def _navigation(check: Checker, field: str, items: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if len(items) > MAX_NAVIGATION_ITEMS:
        check.problem([field], f"At most {MAX_NAVIGATION_ITEMS} items.", "TOO_LONG")
    cleaned = []
    for index, item in enumerate(items):
        path = [field, str(index)]
        label = check.text([*path, "label"], item.get("label"), max_length=100, required=True)
        url = check.url([*path, "url"], item.get("url"))
        if url is None:
            check.problem([*path, "url"], "This field is required.", "REQUIRED")
        cleaned.append({"label": label, "url": url})
    return cleaned


async def update(
    session: AsyncSession,
    actor: Viewer,
    changes: Mapping[str, Any],
    *,
    expected_updated_at: datetime | None,
) -> models.SiteSettings:
    if not policy.may_update_settings(actor):
        raise Forbidden("Only administrators change the settings.")
    site = await session.get(models.SiteSettings, SETTINGS_ROW_ID, with_for_update=True)
    if site is None:
        site = default_settings()
        session.add(site)
    elif expected_updated_at is not None and site.updated_at != expected_updated_at:
        raise InvalidInput.one(
            "The settings changed since you loaded them; reload and apply your change again.",
            code="CONFLICT",
            field=["expectedUpdatedAt"],
        )
    before = events.snapshot(site, SETTINGS_FIELDS)
    check = Checker()
    if "title" in changes:
        title = check.text("title", changes["title"], max_length=150, required=True)
        site.title = title or site.title
    if "url" in changes:
        url = check.url("url", changes["url"], relative=False)
        if url is None:
            check.problem(["url"], "This field is required.", "REQUIRED")
        site.url = url or site.url
    for name, limit in TEXT_LIMITS.items():
        if name in changes:
            setattr(site, name, check.text(camel(name), changes[name], max_length=limit))
    for name in URL_FIELDS:
        if name in changes:
            setattr(site, name, check.url(camel(name), changes[name]))
    if "accent_color" in changes:
        site.accent_color = check.colour("accentColor", changes["accent_color"])
    if changes.get("locale") is not None:
        site.locale = check.locale("locale", changes["locale"])
    if changes.get("timezone") is not None:
        site.timezone = check.timezone("timezone", changes["timezone"])
    for name in NAVIGATION_FIELDS:
        if changes.get(name) is not None:
            setattr(site, name, _navigation(check, camel(name), changes[name]))
    check.raise_if_any()
    site.updated_at = utcnow()
    events.settings_changed(session, site, before)
    await session.flush()
    return site
