"""Content events: which change emits which event, and what each one carries.

A change records its events on the session it writes with (`db.outbox`); they are written
in the same transaction. What a payload needs beyond the changed row (the site URL, a post's
tags and authors) is added once by the dispatcher (`service.dispatch`), so a mutation pays for
its events with one INSERT."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from db import models
from db.base import utcnow
from db.outbox import PendingEvent, record
from service import cache_tags, policy
from service.global_ids import to_global_id
from service.validation import camel

# The events a webhook may subscribe to (the contract's names).
CONTENT_ACTIONS = ("published", "unpublished", "updated", "scheduled", "deleted")
SUBSCRIBABLE: tuple[str, ...] = (
    *(f"post.{action}" for action in CONTENT_ACTIONS),
    *(f"page.{action}" for action in CONTENT_ACTIONS),
    "tag.created",
    "tag.updated",
    "tag.deleted",
    "author.updated",
    "settings.updated",
    "site.changed",
    "media.uploaded",
    "media.deleted",
)
# Sent by testWebhook to one webhook only; nobody subscribes to it.
TEST_EVENT = "webhook.test"
SCHEDULED = models.PostStatus.SCHEDULED
# Tags and authors listed in one payload at most, so a payload stays well under 20 kB.
MAX_LISTED = 50

Snapshot = dict[str, Any]


def snapshot(row: Any, names: Iterable[str]) -> Snapshot:
    """The values of `names` on `row`, to tell later which of them a change touched."""
    return {name: getattr(row, name) for name in names}


def changed_fields(before: Snapshot, row: Any) -> list[str]:
    """The fields (as the API names them) whose values differ from `before`."""
    return [camel(name) for name, value in before.items() if getattr(row, name) != value]


# --- posts and pages ---------------------------------------------------------------------

# Besides the fields an editor sets: what publishing changes.
PUBLICATION_FIELDS = ("status", "published_at")


@dataclass(frozen=True)
class ContentBefore:
    """What a post or page was before a change: its fields, whether readers saw it, and
    whether it was announced as published (a due schedule is seen before the runner
    announces it)."""

    fields: Snapshot
    visible: bool
    announced: bool

    @classmethod
    def of(cls, post: models.Post, *, editable: Iterable[str]) -> ContentBefore:
        return cls(
            fields=snapshot(post, (*editable, *PUBLICATION_FIELDS)),
            visible=policy.is_public(post, utcnow()),
            announced=post.status is models.PostStatus.PUBLISHED,
        )


def content_data(post: models.Post) -> dict[str, Any]:
    """A post or page as a payload names it (the dispatcher adds its URL, tags, authors)."""
    status = models.PostStatus.PUBLISHED if policy.is_public(post, utcnow()) else post.status
    return {
        "id": to_global_id(post.type.value.capitalize(), post.id),
        "slug": post.slug,
        "title": post.title,
        "status": status.value.upper(),
        "featured": post.featured,
        "publishedAt": post.published_at.isoformat() if post.published_at else None,
        "updatedAt": post.updated_at.isoformat(),
    }


def _content_event(
    session: Any, post: models.Post, action: str, *, visible: bool, extra: Mapping[str, Any]
) -> None:
    kind = post.type.value  # "post" or "page", as in the event names
    data: dict[str, Any] = {kind: content_data(post), **extra}
    if not visible:
        data["cacheTags"] = []  # nothing a reader saw, so nothing cached to purge
    # Else the dispatcher names them, once it knows the post's tags and authors.
    record(session, PendingEvent(f"{kind}.{action}", f"{kind}:{post.id}", data, visible))


def _content_actions(post: models.Post, before: ContentBefore, changed: list[str]) -> list[str]:
    """What a change means to the outside, from what readers saw before and see now."""
    visible = policy.is_public(post, utcnow())
    actions = []
    if visible and not before.announced:
        actions.append("published")
    elif before.visible and not visible:
        actions.append("unpublished")
    elif visible:
        actions.append("updated")
    if post.status is SCHEDULED and not visible:
        if {"status", "publishedAt"} & set(changed):
            actions.append("scheduled")
        elif not actions:
            actions.append("updated")
    elif not actions:
        # A draft: edited, or a schedule called off.
        actions.append("unpublished" if before.fields["status"] is SCHEDULED else "updated")
    return actions


def content_changed(
    session: Any, post: models.Post, before: ContentBefore, *, links: Sequence[str] = ()
) -> None:
    """Record what a change to `post` means to the outside: published, unpublished, scheduled
    or updated (with the changed fields; `links` adds "tags" or "authors" when those changed),
    each with site.changed when a reader could see the post before or can now."""
    changed = changed_fields(before.fields, post) + list(links)
    if not changed:
        return
    visible = before.visible or policy.is_public(post, utcnow())
    extra: dict[str, Any] = {"changed": changed}
    if "slug" in changed:
        extra["previous"] = {"slug": before.fields["slug"]}
    for action in _content_actions(post, before, changed):
        _content_event(session, post, action, visible=visible, extra=extra)


def content_went_live(session: Any, post: models.Post) -> None:
    """A scheduled post or page whose time came (the scheduler's event)."""
    _content_event(session, post, "published", visible=True, extra={"changed": ["status"]})


def content_deleted(
    session: Any,
    post: models.Post,
    before: ContentBefore,
    *,
    tags: Sequence[tuple[int, str]],
    authors: Sequence[tuple[int, str]],
) -> None:
    """A deleted post or page; its tags and authors are named here, as they are gone after."""
    kind = post.type.value
    entry = {**content_data(post), **linked(tags, authors)}
    data: dict[str, Any] = {kind: entry}
    if not before.visible:
        data["cacheTags"] = []
    record(session, PendingEvent(f"{kind}.deleted", f"{kind}:{post.id}", data, before.visible))


def linked(
    tags: Sequence[tuple[int, str]], authors: Sequence[tuple[int, str]]
) -> dict[str, list[dict[str, str]]]:
    """A post's tags and authors as a payload lists them: global id and slug."""
    return {
        "tags": [{"id": to_global_id("Tag", i), "slug": s} for i, s in tags[:MAX_LISTED]],
        "authors": [{"id": to_global_id("Author", i), "slug": s} for i, s in authors[:MAX_LISTED]],
    }


def content_subject(subject: str) -> tuple[str, int] | None:
    """("post" or "page", id) when an event's subject is a post or page."""
    kind, _, id = subject.partition(":")
    return (kind, int(id)) if kind in ("post", "page") and id.isdigit() else None


# --- tags, authors, settings ---------------------------------------------------------------

TAG_FIELDS = (
    "name",
    "slug",
    "description",
    "feature_image",
    "visibility",
    "meta_title",
    "meta_description",
)


def content_cache_tags(
    type: str, entry: Mapping[str, Any], changed: Iterable[str] = ()
) -> list[str]:
    """The cache tags a visible post or page event purges, from its finished entry. Entering
    or leaving the public lists changes the tags' post counts and which authors are listed
    (an author is public while credited on something public); so does a change of its tags
    or authors, which also reaches the ones it no longer names (the lists cover those)."""
    kind, _, action = type.partition(".")
    moved = action in ("published", "unpublished", "deleted")
    lists = [
        name
        for name, link in ((cache_tags.TAG_LIST, "tags"), (cache_tags.AUTHOR_LIST, "authors"))
        if moved or link in changed
    ]
    return cache_tags.of_content(
        kind,
        entry["id"],
        tags=[tag["id"] for tag in entry.get("tags", [])],
        authors=[author["id"] for author in entry.get("authors", [])],
        lists=lists,
    )


def tag_data(tag: models.Tag) -> dict[str, Any]:
    return {
        "id": to_global_id("Tag", tag.id),
        "slug": tag.slug,
        "name": tag.name,
        "visibility": tag.visibility.name,
    }


def tag_changed(session: Any, tag: models.Tag, before: Snapshot | None) -> None:
    """tag.created (before is None) or tag.updated; readers see public tags only."""
    public = tag.visibility is models.TagVisibility.PUBLIC
    data: dict[str, Any] = {"tag": tag_data(tag)}
    if before is None:
        # A public tag is listed at once (with no posts yet: no archive was cached).
        data["cacheTags"] = [cache_tags.TAG_LIST] if public else []
        record(session, PendingEvent("tag.created", f"tag:{tag.id}", data, public))
        return
    changed = changed_fields(before, tag)
    if not changed:
        return
    was_public = before["visibility"] is models.TagVisibility.PUBLIC
    visible = public or was_public
    data["changed"] = changed
    if "slug" in changed:
        data["previous"] = {"slug": before["slug"]}
    data["cacheTags"] = cache_tags.of_tag(to_global_id("Tag", tag.id)) if visible else []
    record(session, PendingEvent("tag.updated", f"tag:{tag.id}", data, visible))


def tag_deleted(session: Any, tag: models.Tag) -> None:
    public = tag.visibility is models.TagVisibility.PUBLIC
    purged = cache_tags.of_tag(to_global_id("Tag", tag.id)) if public else []
    data = {"tag": tag_data(tag), "cacheTags": purged}
    record(session, PendingEvent("tag.deleted", f"tag:{tag.id}", data, public))


# Of a staff account, only the public profile is content (as in migration 0006's triggers).
AUTHOR_FIELDS = ("name", "slug", "bio", "profile_image", "cover_image", "website", "location")


def author_changed(session: Any, user: models.User, before: Snapshot) -> None:
    """author.updated when the public profile changed; readers see it on the author's pages."""
    changed = changed_fields(before, user)
    if not changed:
        return
    data: dict[str, Any] = {
        "author": {"id": to_global_id("Author", user.id), "slug": user.slug, "name": user.name},
        "changed": changed,
    }
    if "slug" in changed:
        data["previous"] = {"slug": before["slug"]}
    data["cacheTags"] = cache_tags.of_author(to_global_id("Author", user.id))
    record(session, PendingEvent("author.updated", f"author:{user.id}", data, visible=True))


def settings_changed(session: Any, site: models.SiteSettings, before: Snapshot) -> None:
    changed = changed_fields(before, site)
    if changed:
        data = {
            "settings": {"url": site.url, "title": site.title},
            "changed": changed,
            "cacheTags": [cache_tags.SETTINGS],
        }
        record(session, PendingEvent("settings.updated", "settings", data, visible=True))


def site_changed(session: Any, *, cause: str, subject: str, **data: Any) -> None:
    """site.changed on its own, for a change that no other event names: an import (one event
    for thousands of posts helps no frontend), or a staff account deleted with its author
    page (its posts pass to the owner). Either may change any answer: it purges them all."""
    causes = [{"type": cause, "subject": subject}]
    data = {"causes": causes, **data, "cacheTags": [cache_tags.SITE]}
    record(session, PendingEvent("site.changed", f"site:{subject}", data))


def author_deleted(session: Any, user: models.User, *, posts_to: int) -> None:
    site_changed(
        session,
        cause="author.deleted",
        subject=f"author:{user.id}",
        author={"id": to_global_id("Author", user.id), "slug": user.slug},
        postsTo={"id": to_global_id("Author", posts_to)},
    )


def test_event(webhook_id: int) -> dict[str, Any]:
    """The payload's data of testWebhook's event."""
    return {"webhook": {"id": to_global_id("Webhook", webhook_id)}, "test": True}
