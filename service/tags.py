"""Writing tags: names, Ghost's '#internal' convention, unique slugs, lengths."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from db import models
from db.base import utcnow
from db.repositories.tag_writer import TagWriter
from service import events, policy
from service.errors import Forbidden, InvalidInput, NotFound
from service.policy import Viewer
from service.slugs import slugify
from service.validation import Checker, camel

TEXT_LIMITS = {"description": 500, "meta_title": 300, "meta_description": 500}


def slug_for(name: str) -> str:
    """'#Newsletter' → 'hash-newsletter', as Ghost does for internal tags."""
    return f"hash-{slugify(name[1:])}" if name.startswith("#") else slugify(name)


async def _unique_slug(writer: TagWriter, name: str) -> str:
    base = slug_for(name)
    taken = await writer.slugs_like(base)
    n, candidate = 1, base
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


async def _apply(
    writer: TagWriter, tag: models.Tag, changes: Mapping[str, Any], *, creating: bool
) -> None:
    check = Checker()
    if "name" in changes or creating:
        name = check.text("name", changes.get("name"), max_length=191, required=True)
        if name:
            tag.name = name
            tag.visibility = models.TagVisibility.for_name(name)
    if changes.get("slug") is not None:
        slug = check.slug("slug", changes["slug"])
        if slug != tag.slug and await writer.slug_taken(slug, except_id=tag.id):
            check.problem(["slug"], "This slug is taken.", "TAKEN")
        tag.slug = slug
    for name, limit in TEXT_LIMITS.items():
        if name in changes:
            setattr(tag, name, check.text(camel(name), changes[name], max_length=limit))
    if "feature_image" in changes:
        tag.feature_image = check.url("featureImage", changes["feature_image"])
    check.raise_if_any()


async def create(writer: TagWriter, actor: Viewer, changes: Mapping[str, Any]) -> models.Tag:
    if not policy.may_create_tags(actor):
        raise Forbidden("You may not create tags.")
    now = utcnow()
    tag = models.Tag(created_at=now, updated_at=now)
    await _apply(writer, tag, changes, creating=True)
    if not changes.get("slug"):
        tag.slug = await _unique_slug(writer, tag.name)
    await writer.add(tag)
    events.tag_changed(writer.session, tag, None)
    return tag


async def update(
    writer: TagWriter,
    actor: Viewer,
    id: int,
    changes: Mapping[str, Any],
    *,
    expected_updated_at: datetime | None,
) -> models.Tag:
    tag = await writer.get_for_update(id)
    if tag is None:
        raise NotFound
    if not policy.may_manage_tags(actor):
        raise Forbidden("Only editors and up change tags.")
    if expected_updated_at is not None and tag.updated_at != expected_updated_at:
        raise InvalidInput.one(
            "This tag changed since you loaded it; reload and apply your change again.",
            code="CONFLICT",
            field=["expectedUpdatedAt"],
        )
    before = events.snapshot(tag, events.TAG_FIELDS)
    await _apply(writer, tag, changes, creating=False)
    tag.updated_at = utcnow()
    events.tag_changed(writer.session, tag, before)
    await writer.session.flush()
    return tag


async def delete(writer: TagWriter, actor: Viewer, id: int) -> None:
    tag = await writer.get_for_update(id)
    if tag is None:
        raise NotFound
    if not policy.may_manage_tags(actor):
        raise Forbidden("Only editors and up delete tags.")
    await writer.delete(tag)
    events.tag_deleted(writer.session, tag)
