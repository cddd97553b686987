"""Ghost's tags: public ones, and internal ones (names starting with '#')."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from service.ghost.fields import Invalid, RowReader
from service.ghost.report import Entry, Outcome
from service.ghost.run import ImportRun, ghost_id, update_row
from service.ghost.slug_claims import SlugClaims
from service.slugs import is_valid_slug
from service.tags import TEXT_LIMITS, slug_for

FIELDS = (
    "name",
    "slug",
    "visibility",
    "description",
    "feature_image",
    "meta_title",
    "meta_description",
    "created_at",
    "updated_at",
    "ghost_id",
)


def _fields(row: Any, run: ImportRun) -> tuple[dict[str, Any], list[str]]:
    read = RowReader(row, site_url=run.site_url)
    notes: list[str] = []
    name = read.text("name", max_length=191, required=True) or ""
    slug = read.raw("slug") or slug_for(name)
    if not is_valid_slug(slug):
        notes.append(f"slug {slug!r} is not a valid slug: made {slug_for(slug)!r} of it")
        slug = slug_for(slug)
    values: dict[str, Any] = {"ghost_id": ghost_id(row.get("id")), "name": name, "slug": slug}
    # Broadsheet's rule (Ghost's too): the name decides; Ghost's visibility column agrees.
    values["visibility"] = models.TagVisibility.for_name(name)
    for key, limit in TEXT_LIMITS.items():
        values[key] = read.text(key, max_length=limit)
    values["feature_image"] = read.url("feature_image")
    values["created_at"] = read.date("created_at")
    values["updated_at"] = read.date("updated_at") or values["created_at"]
    read.done()
    return values, notes


async def import_tags(session: AsyncSession, run: ImportRun) -> None:
    """Create or update the file's tags; fill `run.tags`."""
    existing = list(await session.scalars(select(models.Tag)))
    by_ghost = {tag.ghost_id: tag for tag in existing if tag.ghost_id}
    by_slug = {tag.slug: tag for tag in existing}
    slugs = SlugClaims((tag.slug, tag.id) for tag in existing)
    matched: set[int] = set()
    for index, row in enumerate(run.export.rows("tags")):
        path = run.export.where("tags", index)
        name = str(row.get("slug") or row.get("name") or "?") if isinstance(row, dict) else "?"
        try:
            values, notes = _fields(row, run)
        except Invalid as error:
            run.report.add(Entry(path, "tag", name, "error", error.problems))
            continue
        gid = values["ghost_id"]
        if gid and gid in run.tags:
            run.report.add(Entry(path, "tag", name, "skip", [f"id {gid} appears twice"]))
            continue
        tag = by_ghost.get(gid) or by_slug.get(values["slug"])
        if tag is not None and (tag.id in matched or tag.ghost_id not in (None, gid)):
            tag = None
        wanted = values["slug"]
        who = tag.id if tag is not None else path
        values["slug"] = slugs.claim(wanted, who=who, current=tag.slug if tag else None)
        if values["slug"] != wanted:
            notes.append(f"slug {wanted!r} is taken: imported as {values['slug']!r}")
        if tag is None:
            tag = models.Tag(**{k: v for k, v in values.items() if v is not None})
            session.add(tag)
            await session.flush()
            outcome: Outcome = "create"
        else:
            matched.add(tag.id)
            outcome = update_row(tag, values, FIELDS)
        if gid:
            run.tags[gid] = tag.id
        run.report.add(Entry(path, "tag", values["slug"], outcome, notes))
