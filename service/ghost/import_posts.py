"""Ghost's posts and pages, with their bodies, meta fields, and ordered tags and authors."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.base import utcnow
from service import rendering
from service.content import MAX_MARKDOWN, TEXT_LIMITS
from service.ghost import bodies
from service.ghost.fields import Invalid, RowReader
from service.ghost.report import Entry
from service.ghost.run import ImportRun, ghost_id, update_row
from service.ghost.slug_claims import SlugClaims
from service.slugs import is_valid_slug, slugify

PostType, PostStatus = models.PostType, models.PostStatus
STATUSES = {
    "published": PostStatus.PUBLISHED,
    "draft": PostStatus.DRAFT,
    "scheduled": PostStatus.SCHEDULED,
    "sent": PostStatus.DRAFT,  # sent by email only: it was never on the site
}
FIELDS = (
    "type",
    "status",
    "title",
    "slug",
    "markdown",
    "html",
    "plaintext",
    "reading_time",
    "custom_excerpt",
    "excerpt",  # worked out from the two before it
    "feature_image",
    "feature_image_alt",
    "feature_image_caption",
    "featured",
    "meta_title",
    "meta_description",
    "canonical_url",
    "og_image",
    "published_at",
    "created_at",
    "updated_at",
    "ghost_id",
)
# posts_meta (Ghost 3 and later) holds these; older exports have them on the post itself.
META_FIELDS = (
    "meta_title",
    "meta_description",
    "og_image",
    "feature_image_alt",
    "feature_image_caption",
)
CHUNK = 500


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _body(read: RowReader, notes: list[str]) -> dict[str, Any]:
    """The body as Broadsheet keeps it: Markdown source, sanitised html, plaintext."""
    lexical, mobiledoc = read.document("lexical"), read.document("mobiledoc")
    document = lexical or mobiledoc
    source = bodies.markdown_card(document, lexical=bool(lexical)) if document else None
    html = read.raw("html")
    if html is not None:
        html = rendering.sanitise(html)
        markdown = source if source is not None else bodies.html_to_markdown(html)
    else:
        markdown = source if source is not None else read.raw("markdown") or ""
        if source is None and document is not None:
            convert = bodies.lexical_to_markdown if lexical else bodies.mobiledoc_to_markdown
            try:
                markdown, dropped = convert(document)
            except (LookupError, TypeError, ValueError, AttributeError) as error:
                read.problem("lexical" if lexical else "mobiledoc", f"cannot be read: {error!r}")
                dropped = bodies.Dropped()
            if dropped:
                notes.append(f"cards with no Markdown form left out: {', '.join(sorted(dropped))}")
        html = rendering.render_markdown(markdown).html
    if len(markdown) > MAX_MARKDOWN:
        read.problem("html", f"the body is longer than {MAX_MARKDOWN} characters")
    plaintext = rendering.to_plaintext(html)
    return {
        "markdown": markdown,
        "html": html,
        "plaintext": plaintext,
        "reading_time": rendering.reading_time(plaintext),
    }


def _fields(row: Any, meta: dict[str, Any], run: ImportRun) -> tuple[dict[str, Any], list[str]]:
    read = RowReader(row, site_url=run.site_url)
    notes: list[str] = []
    values: dict[str, Any] = {"ghost_id": ghost_id(row.get("id"))}
    kind = row.get("type") or ("page" if read.flag("page") else "post")
    values["type"] = PostType.PAGE if kind == "page" else PostType.POST
    if kind not in ("post", "page"):
        read.problem("type", f"unknown type {kind!r}")
    values["title"] = read.text("title", max_length=255, required=True)
    slug = read.raw("slug") or slugify(values["title"] or "")
    if not is_valid_slug(slug):
        notes.append(f"slug {slug!r} is not a valid slug: made {slugify(slug)!r} of it")
        slug = slugify(slug)
    values["slug"] = slug
    status = STATUSES.get(str(row.get("status")))
    if status is None:
        read.problem("status", f"unknown status {row.get('status')!r}")
    elif row.get("status") == "sent":
        notes.append("was sent by email only: imported as a draft")
    values["status"] = status
    values["published_at"] = read.date("published_at")
    values["created_at"] = read.date("created_at")
    values["updated_at"] = read.date("updated_at") or values["created_at"]
    if status is PostStatus.SCHEDULED and values["published_at"] is None:
        read.problem("published_at", "a scheduled post needs its publication date")
    if status is PostStatus.PUBLISHED and values["published_at"] is None:
        values["published_at"] = values["created_at"]
        notes.append("published with no publication date: dated when it was created")
    if status is PostStatus.DRAFT:
        values["published_at"] = None
    if row.get("visibility") not in (None, "public") and status is not PostStatus.DRAFT:
        # Broadsheet has no members: publishing it would show paid content to everyone.
        notes.append(f"was for {row['visibility']} readers in Ghost: imported as a draft")
        values["status"], values["published_at"] = PostStatus.DRAFT, None
    values.update(_body(read, notes))
    values["custom_excerpt"] = read.text("custom_excerpt", max_length=300)
    values["excerpt"] = rendering.excerpt(
        custom_excerpt=values["custom_excerpt"], plaintext=values["plaintext"]
    )
    values["featured"] = read.flag("featured")
    values["feature_image"] = read.url("feature_image") or read.url("image")
    values["canonical_url"] = read.url("canonical_url")
    meta_read = RowReader(meta or row, site_url=run.site_url)
    for key in META_FIELDS:
        limit = TEXT_LIMITS.get(key, 2000)
        values[key] = (
            meta_read.url(key) if key == "og_image" else meta_read.text(key, max_length=limit)
        )
    if values["feature_image_caption"]:
        values["feature_image_caption"] = rendering.sanitise(values["feature_image_caption"])
    meta_read.done()
    read.done()
    return values, notes


def _order(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _links(run: ImportRun, table: str, key: str) -> dict[str, list[str]]:
    """Ghost post id → the linked ids of `table`, in `sort_order` (then file order)."""
    rows = [
        (_order(row.get("sort_order")), index, ghost_id(row.get("post_id")), ghost_id(row.get(key)))
        for index, row in enumerate(run.export.rows(table))
        if isinstance(row, dict)
    ]
    linked: dict[str, list[str]] = defaultdict(list)
    for _, _, post, other in sorted(rows, key=lambda r: (r[0], r[1])):
        if post and other and other not in linked[post]:
            linked[post].append(other)
    return linked


def _resolve(wanted: list[str], known: dict[str, int], kind: str, notes: list[str]) -> list[int]:
    ids = [known[g] for g in wanted if g in known]
    if len(ids) < len(wanted):
        missing = ", ".join(g for g in wanted if g not in known)
        notes.append(f"{kind} not imported, left off: {missing}")
    return list(dict.fromkeys(ids))


class _Existing:
    """Posts and pages already in the database: enough to match and to claim slugs."""

    def __init__(self, rows: Sequence[Any]) -> None:
        self.by_ghost = {row.ghost_id: row.id for row in rows if row.ghost_id}
        self.by_slug = {(row.type, row.slug): (row.id, row.ghost_id) for row in rows}
        self.slug_of = {row.id: row.slug for row in rows}
        self.slugs = {
            kind: SlugClaims((row.slug, row.id) for row in rows if row.type is kind)
            for kind in PostType
        }


async def _links_of(
    session: AsyncSession, model: type[models.PostTag] | type[models.PostAuthor], ids: list[int]
) -> dict[int, list[int]]:
    column = model.tag_id if model is models.PostTag else model.author_id  # type: ignore[union-attr]
    found: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for chunk in _chunks(ids):
        stmt = select(model.post_id, column, model.sort_order).where(model.post_id.in_(chunk))
        for post_id, other, order in await session.execute(stmt):
            found[post_id].append((order, other))
    return {post_id: [other for _, other in sorted(pairs)] for post_id, pairs in found.items()}


async def import_posts(session: AsyncSession, run: ImportRun) -> None:
    """Create or update the file's posts and pages, with their tags and authors."""
    posts_stmt = select(models.Post.id, models.Post.type, models.Post.slug, models.Post.ghost_id)
    existing = _Existing((await session.execute(posts_stmt)).all())
    metas = {
        ghost_id(meta.get("post_id")): meta
        for meta in run.export.rows("posts_meta")
        if isinstance(meta, dict)
    }
    tag_links, author_links = (
        _links(run, "posts_tags", "tag_id"),
        _links(run, "posts_authors", "author_id"),
    )
    seen: set[str] = set()
    matched: set[int] = set()
    # (entry, values, tag ids, author ids, id of the row it updates or None)
    planned: list[tuple[Entry, dict[str, Any], list[int], list[int], int | None]] = []
    for index, row in enumerate(run.export.rows("posts")):
        path = run.export.where("posts", index)
        run.progress(1)
        is_dict = isinstance(row, dict)
        name = str(row.get("slug") or row.get("title") or "?") if is_dict else "?"
        kind = "page" if is_dict and (row.get("type") == "page" or row.get("page")) else "post"
        try:
            meta = metas.get(ghost_id(row.get("id"))) if is_dict else None
            values, notes = _fields(row, meta or {}, run)
        except Invalid as error:
            run.report.add(Entry(path, kind, name, "error", error.problems))
            continue
        gid = values["ghost_id"]
        if gid and gid in seen:
            run.report.add(Entry(path, kind, name, "skip", [f"id {gid} appears twice"]))
            continue
        seen.add(gid or path)
        target = existing.by_ghost.get(gid)
        if target is None:
            by_slug = existing.by_slug.get((values["type"], values["slug"]))
            if by_slug and by_slug[1] in (None, gid):
                target = by_slug[0]
        if target in matched:
            target = None
        if target is not None:
            matched.add(target)
        wanted = values["slug"]
        current = existing.slug_of.get(target) if target is not None else None
        values["slug"] = existing.slugs[values["type"]].claim(
            wanted, who=target if target is not None else path, current=current
        )
        if values["slug"] != wanted:
            notes.append(
                f"slug {wanted!r} is taken by another {kind}: imported as {values['slug']!r}"
            )
        tags = _resolve(tag_links.get(gid or "", []), run.tags, "tags", notes)
        authors = _resolve(author_links.get(gid or "", []), run.users, "authors", notes)
        legacy = run.users.get(ghost_id(row.get("author_id")) or "")
        if not authors and legacy is not None:
            authors = [legacy]
        if not authors:
            if run.owner_id is None:
                problem = "no author of it was imported, and there is no owner to credit"
                run.report.add(Entry(path, kind, name, "error", [problem]))
                continue
            authors = [run.owner_id]
            notes.append("no author of it was imported: credited to the owner")
        entry = Entry(path, kind, values["slug"], "create" if target is None else "update", notes)
        planned.append((entry, values, tags, authors, target))
    await _write(session, run, planned)


Planned = tuple[Entry, dict[str, Any], list[int], list[int], int | None]


async def _write(session: AsyncSession, run: ImportRun, planned: list[Planned]) -> None:
    """Insert the new rows in batches, update the matched ones where they differ, and
    rewrite the tag and author lists that changed."""
    now = utcnow()
    targets = [target for *_, target in planned if target is not None]
    rows: dict[int, models.Post] = {}
    for chunk in _chunks(targets):
        found = await session.scalars(select(models.Post).where(models.Post.id.in_(chunk)))
        rows.update((post.id, post) for post in found)
    old_tags = await _links_of(session, models.PostTag, targets)
    old_authors = await _links_of(session, models.PostAuthor, targets)

    relinked: list[int] = []
    tag_rows: list[dict[str, int]] = []
    author_rows: list[dict[str, int]] = []

    def link(post_id: int, tags: list[int], authors: list[int]) -> None:
        tag_rows.extend(
            {"post_id": post_id, "tag_id": tag, "sort_order": order}
            for order, tag in enumerate(tags)
        )
        author_rows.extend(
            {"post_id": post_id, "author_id": author, "sort_order": order}
            for order, author in enumerate(authors)
        )

    new = [item for item in planned if item[4] is None]
    for chunk in _chunks(new):
        batch = [
            {
                **item[1],
                "created_at": item[1]["created_at"] or now,
                "updated_at": item[1]["updated_at"] or now,
            }
            for item in chunk
        ]
        stmt = insert(models.Post).returning(models.Post.id, sort_by_parameter_order=True)
        ids = list(await session.scalars(stmt, batch))
        for (_, _, tags, authors, _), post_id in zip(chunk, ids, strict=True):
            link(post_id, tags, authors)
    for entry, values, tags, authors, target in planned:
        if target is None:
            run.report.add(entry)
            continue
        entry.outcome = update_row(rows[target], values, FIELDS)
        if old_tags.get(target, []) != tags or old_authors.get(target, []) != authors:
            entry.outcome = "update"
            relinked.append(target)
            link(target, tags, authors)
        run.report.add(entry)
    await session.flush()
    for chunk in _chunks(relinked):
        await session.execute(delete(models.PostTag).where(models.PostTag.post_id.in_(chunk)))
        await session.execute(delete(models.PostAuthor).where(models.PostAuthor.post_id.in_(chunk)))
    for chunk in _chunks(tag_rows, 5000):
        await session.execute(insert(models.PostTag), chunk)
    for chunk in _chunks(author_rows, 5000):
        await session.execute(insert(models.PostAuthor), chunk)
