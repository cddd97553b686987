"""Deterministic content: the demo site (its text is in service.demo_content), and the
10,000-post data set of generated words the benchmark uses."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.base import utcnow
from db.engine import Database
from service import demo_content, rendering
from service.passwords import hash_password
from service.slugs import slugify

FIRST_NAMES = ["Ada", "Grace", "Alan", "Margaret", "Linus", "Barbara", "Dennis", "Frances"]
LAST_NAMES = ["Lovelace", "Hopper", "Turing", "Hamilton", "Torvalds", "Liskov", "Ritchie"]
TOPICS = [
    "Technology", "Science", "Culture", "Politics", "Design", "Travel", "Food", "Climate",
    "Health", "Books", "Film", "Music", "Sport", "Business", "History", "Education",
]  # fmt: skip
WORDS = [
    "the",
    "a",
    "of",
    "city",
    "river",
    "data",
    "light",
    "paper",
    "story",
    "history",
    "market",
    "future",
    "garden",
    "public",
    "night",
    "open",
    "small",
    "quiet",
    "modern",
    "ancient",
    "digital",
    "local",
    "global",
    "careful",
    "simple",
    "radical",
    "common",
    "people",
    "language",
    "question",
    "answer",
    "machine",
    "memory",
    "network",
    "season",
    "journey",
    "window",
    "bridge",
    "writes",
    "builds",
    "finds",
    "explains",
    "changes",
    "measures",
    "follows",
    "remembers",
    "imagines",
    "reveals",
]
ROLES = [
    models.Role.OWNER,
    models.Role.ADMINISTRATOR,
    models.Role.EDITOR,
    models.Role.AUTHOR,
    models.Role.CONTRIBUTOR,
]


@dataclass(frozen=True)
class SeedPlan:
    authors: int
    tags: int
    posts: int
    tags_per_post: int = 3
    drafts: int = 0
    scheduled: int = 0
    pages: int = 3
    internal_tag: bool = False
    # The written site in service.demo_content instead of generated words; the counts above
    # must then match it.
    written: bool = False


DEMO = SeedPlan(
    authors=5, tags=12, posts=54, drafts=3, scheduled=1, internal_tag=True, written=True
)
BENCH = SeedPlan(authors=100, tags=500, posts=10_000)


@dataclass(frozen=True)
class SeedReport:
    owner_email: str
    owner_password: str
    authors: int
    tags: int
    posts: int
    drafts: int
    scheduled: int
    pages: int


class DatabaseNotEmpty(RuntimeError):
    pass


Row = dict[str, object]


@dataclass(frozen=True)
class _Content:
    """Rows to insert; each post's authors and tags are positions in `users` and `tags`,
    the primary one first."""

    users: list[Row]
    tags: list[Row]
    posts: list[Row]
    post_authors: list[list[int]]
    post_tags: list[list[int]]


# How far back the published posts go; the pages are as old as the site.
TIMELINE = timedelta(days=240)


def _user(name: str, *, index: int, now: datetime, owner_hash: str) -> Row:
    """A staff row: the first is the owner, who can sign in; the rest have no password."""
    return {
        "email": f"{slugify(name)}@example.com",
        "name": name,
        "slug": slugify(name),
        "role": ROLES[index] if index < len(ROLES) else models.Role.AUTHOR,
        "status": models.UserStatus.ACTIVE,
        "password_hash": owner_hash if index == 0 else None,
        "created_at": now - timedelta(days=400),
        "updated_at": now - timedelta(days=400),
    }


def _tag(name: str, description: str, *, now: datetime) -> Row:
    return {
        "name": name,
        "slug": slugify(name),
        "description": description,
        "visibility": models.TagVisibility.PUBLIC,
        "created_at": now,
        "updated_at": now,
    }


def _newsletter_tag(now: datetime) -> Row:
    return {
        **_tag("#newsletter", "Posts that go out by email.", now=now),
        "slug": "hash-newsletter",
        "visibility": models.TagVisibility.INTERNAL,
    }


def _row(
    *,
    title: str,
    markdown: str,
    type: models.PostType,
    status: models.PostStatus,
    published_at: datetime | None,
    created_at: datetime,
) -> Row:
    """A post row with its rendered body; the caller adds excerpt, featured and images."""
    rendered = rendering.render_markdown(markdown)
    return {
        "type": type,
        "status": status,
        "title": title,
        "slug": slugify(title),
        "markdown": markdown,
        "html": rendered.html,
        "plaintext": rendered.plaintext,
        "reading_time": rendered.reading_time,
        "published_at": published_at,
        "created_at": created_at,
        "updated_at": published_at or created_at,
    }


def _timeline(
    plan: SeedPlan, now: datetime
) -> list[tuple[models.PostStatus, datetime | None, datetime]]:
    """(status, published_at, created_at) of each post: published, then drafts, then scheduled."""
    times: list[tuple[models.PostStatus, datetime | None, datetime]] = []
    # Published posts spread evenly over the timeline, newest last.
    for index in range(plan.posts):
        published = now - TIMELINE + TIMELINE * (index + 1) / (plan.posts + 1)
        times.append((models.PostStatus.PUBLISHED, published, published - timedelta(days=2)))
    for index in range(plan.drafts):
        times.append((models.PostStatus.DRAFT, None, now - timedelta(days=index + 1)))
    for index in range(plan.scheduled):
        scheduled = now + timedelta(days=7 * (index + 1))
        times.append((models.PostStatus.SCHEDULED, scheduled, now - timedelta(hours=1)))
    return times


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 16))]
    return " ".join(words).capitalize() + "."


def _markdown(rng: random.Random, title: str) -> str:
    paragraphs = [" ".join(_sentence(rng) for _ in range(rng.randint(3, 6))) for _ in range(4)]
    return (
        f"{paragraphs[0]}\n\n## {title.split(':')[0]}\n\n{paragraphs[1]}\n\n"
        f"- {_sentence(rng)}\n- {_sentence(rng)}\n\n{paragraphs[2]}\n\n"
        f"> {_sentence(rng)}\n\n{paragraphs[3]} "
        f"[Read more](https://example.com/{rng.randint(1, 99)})."
    )


def _title(rng: random.Random, index: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(3, 6))]
    return f"{' '.join(words).title()} {index}"


def _post_row(
    rng: random.Random,
    index: int,
    *,
    type: models.PostType,
    status: models.PostStatus,
    published_at: datetime | None,
    created_at: datetime,
) -> Row:
    title = _title(rng, index)
    markdown = _markdown(rng, title)
    row = _row(
        title=title,
        markdown=markdown,
        type=type,
        status=status,
        published_at=published_at,
        created_at=created_at,
    )
    return {
        **row,
        "custom_excerpt": _sentence(rng) if index % 5 == 0 else None,
        "featured": index % 7 == 0,
        "feature_image": f"https://picsum.photos/seed/{index}/1200/800",
        "feature_image_alt": title,
    }


def _excerpt(row: Row) -> str | None:
    custom, plaintext = row.get("custom_excerpt"), row["plaintext"]
    assert isinstance(custom, str | None)
    assert isinstance(plaintext, str)
    return rendering.excerpt(custom_excerpt=custom, plaintext=plaintext)


def _generated(plan: SeedPlan, rng: random.Random, now: datetime, owner_hash: str) -> _Content:
    """Random words, as fast as they can be made: the benchmark's data set."""
    users: list[Row] = []
    for index in range(plan.authors):
        name = f"{FIRST_NAMES[index % len(FIRST_NAMES)]} {LAST_NAMES[index % len(LAST_NAMES)]}"
        if index >= len(FIRST_NAMES):
            name = f"{name} {index}"
        users.append(
            {
                **_user(name, index=index, now=now, owner_hash=owner_hash),
                "bio": f"{name} writes about {TOPICS[index % len(TOPICS)].lower()}.",
                "location": rng.choice(["London", "Lisbon", "Nairobi", "Osaka", "Lima"]),
            }
        )

    tags: list[Row] = []
    for index in range(plan.tags):
        base = TOPICS[index % len(TOPICS)]
        name = base if index < len(TOPICS) else f"{base} {index // len(TOPICS)}"
        tags.append(_tag(name, f"Everything about {name.lower()}.", now=now))
    if plan.internal_tag:
        tags.append(_newsletter_tag(now))

    posts: list[Row] = []
    for number, (status, published_at, created_at) in enumerate(_timeline(plan, now), start=1):
        posts.append(
            _post_row(
                rng,
                number,
                type=models.PostType.POST,
                status=status,
                published_at=published_at,
                created_at=created_at,
            )
        )
    for index, title in enumerate(["About", "Contact", "Archive", "Colophon"][: plan.pages]):
        row = _post_row(
            rng,
            index,
            type=models.PostType.PAGE,
            status=models.PostStatus.PUBLISHED,
            published_at=now - TIMELINE,
            created_at=now - TIMELINE,
        )
        posts.append({**row, "title": title, "slug": slugify(title), "featured": False})

    post_authors: list[list[int]] = []
    post_tags: list[list[int]] = []
    for position, row in enumerate(posts):
        lead = position % len(users)
        credited = [lead]
        if position % 6 == 0 and len(users) > 1:
            credited.append((lead + 1) % len(users))
        post_authors.append(credited)
        if row["type"] is models.PostType.PAGE:
            post_tags.append([])
            continue
        chosen = rng.sample(range(plan.tags), k=min(plan.tags_per_post, plan.tags))
        if plan.internal_tag and position % 10 == 0:
            chosen.append(len(tags) - 1)
        post_tags.append(chosen)
    return _Content(users, tags, posts, post_authors, post_tags)


def _written(plan: SeedPlan, now: datetime, owner_hash: str) -> _Content:
    """The demo site in service.demo_content, on the same timeline as generated content."""
    written = (
        len(demo_content.AUTHORS),
        len(demo_content.TOPICS),
        len(demo_content.PUBLISHED),
        len(demo_content.DRAFTS),
        len(demo_content.SCHEDULED),
    )
    if (plan.authors, plan.tags, plan.posts, plan.drafts, plan.scheduled) != written:
        raise ValueError(
            f"the written demo has (authors, tags, posts, drafts, scheduled) {written}"
        )

    users = [
        {
            **_user(author.name, index=index, now=now, owner_hash=owner_hash),
            "bio": author.bio,
            "location": author.location,
        }
        for index, author in enumerate(demo_content.AUTHORS)
    ]
    tags = [_tag(topic.name, topic.description, now=now) for topic in demo_content.TOPICS]
    if plan.internal_tag:
        tags.append(_newsletter_tag(now))
    author_position = {author.name: i for i, author in enumerate(demo_content.AUTHORS)}
    tag_position = {topic.name: i for i, topic in enumerate(demo_content.TOPICS)}

    posts: list[Row] = []
    post_authors: list[list[int]] = []
    post_tags: list[list[int]] = []
    articles = demo_content.PUBLISHED + demo_content.DRAFTS + demo_content.SCHEDULED
    for article, (status, published_at, created_at) in zip(
        articles, _timeline(plan, now), strict=True
    ):
        row = _row(
            title=article.title,
            markdown=article.markdown,
            type=models.PostType.POST,
            status=status,
            published_at=published_at,
            created_at=created_at,
        )
        # No feature images until the demo can serve its own media: none from outside hosts.
        posts.append(
            {
                **row,
                "custom_excerpt": article.excerpt,
                "featured": article.featured,
                "feature_image": None,
                "feature_image_alt": None,
            }
        )
        post_authors.append([author_position[name] for name in article.authors])
        chosen = [tag_position[name] for name in article.tags]
        if plan.internal_tag and article.newsletter:
            chosen.append(len(tags) - 1)
        post_tags.append(chosen)

    for page in demo_content.PAGES[: plan.pages]:
        row = _row(
            title=page.title,
            markdown=page.markdown,
            type=models.PostType.PAGE,
            status=models.PostStatus.PUBLISHED,
            published_at=now - TIMELINE,
            created_at=now - TIMELINE,
        )
        posts.append(
            {
                **row,
                "custom_excerpt": None,
                "featured": False,
                "feature_image": None,
                "feature_image_alt": None,
            }
        )
        post_authors.append([0])  # the editor, who is also the owner
        post_tags.append([])
    return _Content(users, tags, posts, post_authors, post_tags)


async def _has_content(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(func.count()).select_from(models.User)))


async def seed(db: Database, plan: SeedPlan, *, seed: int = 7) -> SeedReport:
    """Fill an empty database with `plan`'s content; refuse if it already has any.

    Written content is the same whatever `seed`; generated content follows it.
    """
    # Refused before any content is built (10,000 rendered posts for the benchmark), and
    # again in the writing transaction, which is what rules out a race.
    async with db.read_sessions() as session:
        if await _has_content(session):
            raise DatabaseNotEmpty("the database already has content; seed only an empty one")
    rng = random.Random(seed)
    now = utcnow().replace(microsecond=0)
    password = secrets.token_urlsafe(12)
    owner_hash = await hash_password(password)
    if plan.written:
        content = _written(plan, now, owner_hash)
    else:
        content = _generated(plan, rng, now, owner_hash)

    async with db.write_sessions.begin() as session:
        if await _has_content(session):
            raise DatabaseNotEmpty("the database already has content; seed only an empty one")

        session.add(
            models.SiteSettings(
                title="The Broadsheet Gazette",
                description="Stories about technology, science and culture.",
                url="http://127.0.0.1:8000",
                accent_color="#ff1a75",
                navigation=[
                    {"label": "Home", "url": "/"},
                    {"label": "About", "url": "/about/"},
                    {"label": "Archive", "url": "/archive/"},
                ],
                secondary_navigation=[{"label": "Contact", "url": "/contact/"}],
            )
        )

        users = content.users
        user_ids = list(await session.scalars(insert(models.User).returning(models.User.id), users))
        tag_ids = list(
            await session.scalars(insert(models.Tag).returning(models.Tag.id), content.tags)
        )
        post_ids: list[int] = []
        for start in range(0, len(content.posts), 1000):
            rows = content.posts[start : start + 1000]
            chunk = [{**row, "excerpt": _excerpt(row)} for row in rows]
            post_ids.extend(
                await session.scalars(insert(models.Post).returning(models.Post.id), chunk)
            )

        author_links = [
            {"post_id": post_id, "author_id": user_ids[author], "sort_order": order}
            for post_id, authors in zip(post_ids, content.post_authors, strict=True)
            for order, author in enumerate(authors)
        ]
        tag_links = [
            {"post_id": post_id, "tag_id": tag_ids[tag], "sort_order": order}
            for post_id, tags in zip(post_ids, content.post_tags, strict=True)
            for order, tag in enumerate(tags)
        ]
        for start in range(0, len(author_links), 5000):
            await session.execute(insert(models.PostAuthor), author_links[start : start + 5000])
        for start in range(0, len(tag_links), 5000):
            await session.execute(insert(models.PostTag), tag_links[start : start + 5000])

    # Fresh statistics, so the planners use the link indexes from the first request on.
    async with db.engine.begin() as connection:
        await connection.exec_driver_sql("ANALYZE")

    pages = sum(row["type"] is models.PostType.PAGE for row in content.posts)
    return SeedReport(
        owner_email=users[0]["email"],  # type: ignore[arg-type]
        owner_password=password,
        authors=len(users),
        tags=len(content.tags),
        posts=plan.posts,
        drafts=plan.drafts,
        scheduled=plan.scheduled,
        pages=pages,
    )
