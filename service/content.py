"""Writing posts and pages: validation, slugs, rendering, authors and tags, revisions,
publishing and scheduling, optimistic concurrency."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from db import models
from db.base import utcnow
from db.repositories.content_writer import ContentWriter, LookupBySlugOrId, linked_slugs
from service import events, policy, rendering
from service.errors import Forbidden, InvalidInput, NotFound
from service.offload import RENDERING, off_the_loop
from service.policy import Viewer
from service.slugs import slugify
from service.validation import Checker, camel

# The fields an editor sets (authors and tags aside); the API's inputs take these names.
FIELDS = (
    "title",
    "slug",
    "markdown",
    "custom_excerpt",
    "featured",
    "feature_image",
    "feature_image_alt",
    "feature_image_caption",
    "meta_title",
    "meta_description",
    "canonical_url",
    "og_image",
)
MAX_MARKDOWN = 1_000_000
TEXT_LIMITS = {
    "custom_excerpt": 300,
    "feature_image_alt": 191,
    "feature_image_caption": 2000,
    "meta_title": 300,
    "meta_description": 500,
}
URL_FIELDS = ("feature_image", "canonical_url", "og_image")


@dataclass(frozen=True)
class Ref:
    """An author or tag named by database id or by slug, as the client wrote it."""

    id: int | None = None
    slug: str | None = None


async def unique_slug(writer: ContentWriter, title: str) -> str:
    """The slug of `title`, with the lowest free numeric suffix when it is taken."""
    base = slugify(title)
    taken = await writer.slugs_like(base)
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


async def _resolve(
    checker: Checker, lookup: LookupBySlugOrId, field: str, refs: Sequence[Ref]
) -> list[int]:
    ids = [ref.id for ref in refs if ref.id is not None]
    slugs = [ref.slug for ref in refs if ref.slug is not None]
    found = await (lookup.users if field == "authors" else lookup.tags)(ids, slugs)
    resolved: list[int] = []
    for index, ref in enumerate(refs):
        key = ref.id if ref.id is not None else ref.slug
        if key not in found:
            checker.problem([field, str(index)], f"No such {field[:-1]}: {key}.", "NOT_FOUND")
        elif found[key] not in resolved:
            resolved.append(found[key])
    return resolved


async def _apply(
    writer: ContentWriter,
    post: models.Post,
    changes: Mapping[str, Any],
    *,
    creating: bool,
) -> tuple[list[int] | None, list[int] | None]:
    """Validate `changes` and set them on `post`; return resolved author and tag ids (None
    where not given). Raises InvalidInput with every problem found."""
    check = Checker()
    if "title" in changes or creating:
        title = check.text("title", changes.get("title"), max_length=255, required=True)
        if title:
            post.title = title
    if changes.get("slug") is not None:
        slug = check.slug("slug", changes["slug"])
        if slug != post.slug and await writer.slug_taken(slug, except_id=post.id):
            check.problem(["slug"], "This slug is taken.", "TAKEN")
        post.slug = slug
    if "markdown" in changes:
        markdown = changes["markdown"] or ""
        if len(markdown) > MAX_MARKDOWN:
            check.problem(["markdown"], f"At most {MAX_MARKDOWN} characters.", "TOO_LONG")
        elif rendering.html_nesting(markdown) > rendering.MAX_HTML_NESTING:
            nesting = f"Raw HTML may nest at most {rendering.MAX_HTML_NESTING} elements deep."
            check.problem(["markdown"], nesting)
        else:
            # Rendering and sanitising a long body take a while: not on the event loop.
            rendered = await off_the_loop(rendering.render_markdown, markdown, lane=RENDERING)
            post.markdown = markdown
            post.html, post.plaintext = rendered.html, rendered.plaintext
            post.reading_time = rendered.reading_time
    for name, limit in TEXT_LIMITS.items():
        if name in changes:
            setattr(post, name, check.text(camel(name), changes[name], max_length=limit))
    caption = post.feature_image_caption
    if caption and len(caption) <= TEXT_LIMITS["feature_image_caption"]:
        # The caption is HTML (links, emphasis), so it is sanitised like the body (once
        # within its limit: a refused one is never stored, nor worth the work).
        post.feature_image_caption = rendering.sanitise(caption)
    for name in URL_FIELDS:
        if name in changes:
            setattr(post, name, check.url(camel(name), changes[name]))
    if changes.get("featured") is not None:
        post.featured = bool(changes["featured"])
    lookup = LookupBySlugOrId(writer.session)
    authors = tags = None
    if changes.get("authors") is not None:
        authors = await _resolve(check, lookup, "authors", changes["authors"])
        if not authors and not check.problems:
            check.problem(["authors"], "A post needs at least one author.", "REQUIRED")
    if changes.get("tags") is not None:
        tags = await _resolve(check, lookup, "tags", changes["tags"])
    check.raise_if_any()
    post.excerpt = rendering.excerpt(custom_excerpt=post.custom_excerpt, plaintext=post.plaintext)
    return authors, tags


async def create(
    writer: ContentWriter, actor: Viewer, changes: Mapping[str, Any], *, default_author: int
) -> models.Post:
    """A new draft; its authors default to the caller."""
    if not policy.may_create_content(actor, writer.type):
        raise Forbidden(f"You may not create {writer.type.value}s.")
    now = utcnow()
    post = models.Post(type=writer.type, status=models.PostStatus.DRAFT, created_at=now)
    post.updated_at = now
    post.featured = False
    authors, tags = await _apply(writer, post, {"markdown": "", **changes}, creating=True)
    authors = authors or [default_author]
    if not policy.may_set_authors(actor, authors):
        raise Forbidden("Only editors may credit other authors.")
    if not changes.get("slug"):
        post.slug = await unique_slug(writer, post.title)
    await writer.add(post)
    await writer.set_authors(post.id, authors)
    if tags is not None:
        await writer.set_tags(post.id, tags)
    await writer.add_revision(post, author_id=actor.user_id)
    return post


async def _editable(writer: ContentWriter, actor: Viewer, id: int) -> tuple[models.Post, list[int]]:
    post = await writer.get_for_update(id)
    if post is None:
        raise NotFound
    author_ids = await writer.author_ids(post.id)
    if not policy.may_edit_content(actor, post, author_ids):
        raise Forbidden(f"You may not change this {writer.type.value}.")
    return post, author_ids


def _check_unchanged_since(post: models.Post, expected: datetime | None) -> None:
    if expected is not None and post.updated_at != expected:
        raise InvalidInput.one(
            f"This {post.type.value} changed since you loaded it (now updatedAt "
            f"{post.updated_at.isoformat()}); reload and apply your change again.",
            code="CONFLICT",
            field=["expectedUpdatedAt"],
        )


async def update(
    writer: ContentWriter,
    actor: Viewer,
    id: int,
    changes: Mapping[str, Any],
    *,
    expected_updated_at: datetime | None,
) -> models.Post:
    post, author_ids = await _editable(writer, actor, id)
    _check_unchanged_since(post, expected_updated_at)
    before = events.ContentBefore.of(post, editable=FIELDS)
    if post.status is models.PostStatus.SCHEDULED and policy.is_public(post, utcnow()):
        # Due, and not yet announced by the runner: this change announces it instead, and
        # the stored status says so, so that the runner does not announce it a second time.
        post.status = models.PostStatus.PUBLISHED
    authors, tags = await _apply(writer, post, changes, creating=False)
    links = []
    if authors is not None:
        if not policy.may_set_authors(actor, authors):
            raise Forbidden("Only editors may credit other authors.")
        if authors != author_ids:
            links.append("authors")
        await writer.set_authors(post.id, authors)
    if tags is not None:
        if tags != await writer.tag_ids(post.id):
            links.append("tags")
        await writer.set_tags(post.id, tags)
    post.updated_at = utcnow()
    if (post.title, post.markdown) != (before.fields["title"], before.fields["markdown"]):
        await writer.add_revision(post, author_id=actor.user_id)
    events.content_changed(writer.session, post, before, links=links)
    await writer.session.flush()
    return post


async def delete(writer: ContentWriter, actor: Viewer, id: int) -> None:
    post, _ = await _editable(writer, actor, id)
    before = events.ContentBefore.of(post, editable=FIELDS)
    tags, authors = await linked_slugs(writer.session, [post.id])
    await writer.delete(post)
    events.content_deleted(
        writer.session, post, before, tags=tags[post.id], authors=authors[post.id]
    )


# PostgreSQL's driver stores the very first and last instants it can represent as -infinity
# and infinity, which read back as no date at all.
EARLIEST_PUBLICATION = datetime.min.replace(tzinfo=UTC)
LATEST_PUBLICATION = datetime.max.replace(tzinfo=UTC)


async def publish(
    writer: ContentWriter, actor: Viewer, id: int, *, published_at: datetime | None
) -> models.Post:
    """Publish now, at a past date (backdating), or schedule for a future one. A scheduled
    post turns public by itself when due: visibility is decided when it is read."""
    post = await writer.get_for_update(id)
    if post is None:
        raise NotFound
    if not policy.may_publish(actor, post, await writer.author_ids(post.id)):
        raise Forbidden(f"You may not publish this {writer.type.value}.")
    before = events.ContentBefore.of(post, editable=FIELDS)
    now = utcnow()
    if published_at is not None and not EARLIEST_PUBLICATION < published_at < LATEST_PUBLICATION:
        raise InvalidInput.one(
            "Choose a date after the first instant of year 1 and before the last of year 9999.",
            field=("publishedAt",),
        )
    if published_at is None:
        keep = post.status is not models.PostStatus.DRAFT and post.published_at is not None
        current = cast(datetime, post.published_at)  # only read where `keep` says it is set
        published_at = current if keep and current <= now else now
    post.published_at = published_at
    post.status = models.PostStatus.SCHEDULED if published_at > now else models.PostStatus.PUBLISHED
    post.updated_at = now
    events.content_changed(writer.session, post, before)
    await writer.session.flush()
    return post


async def unpublish(writer: ContentWriter, actor: Viewer, id: int) -> models.Post:
    post = await writer.get_for_update(id)
    if post is None:
        raise NotFound
    if not policy.may_publish(actor, post, await writer.author_ids(post.id)):
        raise Forbidden(f"You may not unpublish this {writer.type.value}.")
    before = events.ContentBefore.of(post, editable=FIELDS)
    post.status = models.PostStatus.DRAFT
    post.published_at = None
    post.updated_at = utcnow()
    events.content_changed(writer.session, post, before)
    await writer.session.flush()
    return post


async def restore_revision(writer: ContentWriter, actor: Viewer, revision_id: int) -> models.Post:
    """Copy a revision's title and markdown back, as a new change (itself a revision)."""
    revision = await writer.revision(revision_id)
    if revision is None:
        raise NotFound
    changes = {"title": revision.title, "markdown": revision.markdown}
    return await update(writer, actor, revision.post_id, changes, expected_updated_at=None)
