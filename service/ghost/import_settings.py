"""The site settings Broadsheet shares with Ghost. Only these keys are read: Ghost's
settings table also holds secrets (session and members keys, Stripe and mail credentials)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.models.site_settings import SETTINGS_ROW_ID
from db.repositories.site_settings import default_settings
from service.ghost.report import Entry, Outcome
from service.ghost.run import ImportRun, update_row
from service.site_settings import MAX_NAVIGATION_ITEMS, TEXT_LIMITS, URL_FIELDS
from service.validation import Checker

# Ghost key → Broadsheet field (Ghost before 1.0 said 'lang' and 'active_timezone').
KEYS = {
    "title": "title",
    "description": "description",
    "logo": "logo",
    "icon": "icon",
    "cover_image": "cover_image",
    "accent_color": "accent_color",
    "locale": "locale",
    "lang": "locale",
    "timezone": "timezone",
    "active_timezone": "timezone",
    "navigation": "navigation",
    "secondary_navigation": "secondary_navigation",
    "meta_title": "meta_title",
    "meta_description": "meta_description",
}


def _navigation(check: Checker, key: str, value: str | None) -> list[dict[str, Any]] | None:
    try:
        items = json.loads(value or "[]")
    except json.JSONDecodeError:
        check.problem(key, "not a JSON list of {label, url}")
        return None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        check.problem(key, "not a JSON list of {label, url}")
        return None
    if len(items) > MAX_NAVIGATION_ITEMS:
        check.problem(key, f"at most {MAX_NAVIGATION_ITEMS} items")
    return [
        {
            "label": check.text(key, item.get("label"), max_length=100, required=True),
            "url": check.url(key, item.get("url")) or "/",
        }
        for item in items
    ]


def _value(field: str, key: str, value: str | None, site_url: str) -> tuple[Any, list[str]]:
    """The Broadsheet value of one Ghost setting, and what is wrong with it."""
    check = Checker()
    value = value.replace("__GHOST_URL__", site_url.rstrip("/")) if value else value
    result: Any
    if field in ("navigation", "secondary_navigation"):
        result = _navigation(check, key, value)
    elif field in URL_FIELDS:
        result = check.url(key, value)
    elif field == "accent_color":
        result = check.colour(key, value)
    elif field == "locale":
        result = check.locale(key, value) if value else None
    elif field == "timezone":
        result = check.timezone(key, value) if value else None
    else:
        limit = 150 if field == "title" else TEXT_LIMITS[field]
        result = check.text(key, value, max_length=limit)
    return result, [problem.message for problem in check.problems]


async def import_settings(session: AsyncSession, run: ImportRun) -> None:
    """Set the shared settings the file has; a setting that is not valid is reported."""
    wanted: dict[str, Any] = {}
    for index, row in enumerate(run.export.rows("settings")):
        key = row.get("key") if isinstance(row, dict) else None
        if not isinstance(key, str) or key not in KEYS:
            continue
        field = KEYS[key]
        raw = row.get("value")
        value, problems = _value(field, key, raw if isinstance(raw, str) else None, run.site_url)
        if problems:
            run.report.add(
                Entry(run.export.where("settings", index), "settings", key, "error", problems)
            )
        elif value is not None or field not in ("title", "locale", "timezone"):
            wanted[field] = value
    if not wanted:
        return
    site = await session.get(models.SiteSettings, SETTINGS_ROW_ID)
    outcome: Outcome
    if site is None:
        site = default_settings()
        session.add(site)
        update_row(site, wanted, tuple(wanted))
        outcome = "create"
    else:
        outcome = update_row(site, wanted, tuple(wanted))
    names = ", ".join(sorted(wanted))
    run.report.add(Entry(f"{run.export.path}.settings", "settings", names, outcome))
