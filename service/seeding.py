"""Deterministic content: the demo site, and the 10,000-post data set the benchmark uses."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select

from db import models
from db.base import utcnow
from db.engine import Database
from service import rendering
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


DEMO = SeedPlan(authors=5, tags=12, posts=54, drafts=3, scheduled=1, internal_tag=True)
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
) -> dict[str, object]:
    title = _title(rng, index)
    markdown = _markdown(rng, title)
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
        "custom_excerpt": _sentence(rng) if index % 5 == 0 else None,
        "featured": index % 7 == 0,
        "feature_image": f"https://picsum.photos/seed/{index}/1200/800",
        "feature_image_alt": title,
        "published_at": published_at,
        "created_at": created_at,
        "updated_at": published_at or created_at,
    }


async def seed(db: Database, plan: SeedPlan, *, seed: int = 7) -> SeedReport:
    """Fill an empty database with `plan`'s content; refuse if it already has any."""
    rng = random.Random(seed)
    now = utcnow().replace(microsecond=0)
    password = secrets.token_urlsafe(12)
    async with db.write_sessions.begin() as session:
        if await session.scalar(select(func.count()).select_from(models.User)):
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

        users = []
        owner_hash = await hash_password(password)
        for index in range(plan.authors):
            name = f"{FIRST_NAMES[index % len(FIRST_NAMES)]} {LAST_NAMES[index % len(LAST_NAMES)]}"
            if index >= len(FIRST_NAMES):
                name = f"{name} {index}"
            users.append(
                {
                    "email": f"{slugify(name)}@example.com",
                    "name": name,
                    "slug": slugify(name),
                    "role": ROLES[index] if index < len(ROLES) else models.Role.AUTHOR,
                    "status": models.UserStatus.ACTIVE,
                    "password_hash": owner_hash if index == 0 else None,
                    "bio": f"{name} writes about {TOPICS[index % len(TOPICS)].lower()}.",
                    "location": rng.choice(["London", "Lisbon", "Nairobi", "Osaka", "Lima"]),
                    "created_at": now - timedelta(days=400),
                    "updated_at": now - timedelta(days=400),
                }
            )
        user_ids = list(await session.scalars(insert(models.User).returning(models.User.id), users))

        tags = []
        for index in range(plan.tags):
            base = TOPICS[index % len(TOPICS)]
            name = base if index < len(TOPICS) else f"{base} {index // len(TOPICS)}"
            tags.append(
                {
                    "name": name,
                    "slug": slugify(name),
                    "description": f"Everything about {name.lower()}.",
                    "visibility": models.TagVisibility.PUBLIC,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        if plan.internal_tag:
            tags.append(
                {
                    "name": "#newsletter",
                    "slug": "hash-newsletter",
                    "description": "Posts that go out by email.",
                    "visibility": models.TagVisibility.INTERNAL,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        tag_ids = list(await session.scalars(insert(models.Tag).returning(models.Tag.id), tags))

        # Published posts spread evenly over the last ~eight months, newest last.
        rows = []
        span = timedelta(days=240)
        for index in range(plan.posts):
            published = now - span + span * (index + 1) / (plan.posts + 1)
            rows.append(
                _post_row(
                    rng,
                    index + 1,
                    type=models.PostType.POST,
                    status=models.PostStatus.PUBLISHED,
                    published_at=published,
                    created_at=published - timedelta(days=2),
                )
            )
        for index in range(plan.drafts):
            rows.append(
                _post_row(
                    rng,
                    plan.posts + index + 1,
                    type=models.PostType.POST,
                    status=models.PostStatus.DRAFT,
                    published_at=None,
                    created_at=now - timedelta(days=index + 1),
                )
            )
        for index in range(plan.scheduled):
            rows.append(
                _post_row(
                    rng,
                    plan.posts + plan.drafts + index + 1,
                    type=models.PostType.POST,
                    status=models.PostStatus.SCHEDULED,
                    published_at=now + timedelta(days=7 * (index + 1)),
                    created_at=now - timedelta(hours=1),
                )
            )
        for index, title in enumerate(["About", "Contact", "Archive", "Colophon"][: plan.pages]):
            row = _post_row(
                rng,
                index,
                type=models.PostType.PAGE,
                status=models.PostStatus.PUBLISHED,
                published_at=now - span,
                created_at=now - span,
            )
            rows.append({**row, "title": title, "slug": slugify(title), "featured": False})

        post_ids = []
        for start in range(0, len(rows), 1000):
            chunk = rows[start : start + 1000]
            post_ids.extend(
                await session.scalars(insert(models.Post).returning(models.Post.id), chunk)
            )

        author_links = []
        tag_links = []
        for position, post_id in enumerate(post_ids):
            lead = position % len(user_ids)
            author_links.append({"post_id": post_id, "author_id": user_ids[lead], "sort_order": 0})
            if position % 6 == 0 and len(user_ids) > 1:
                second = user_ids[(lead + 1) % len(user_ids)]
                author_links.append({"post_id": post_id, "author_id": second, "sort_order": 1})
            if rows[position]["type"] is models.PostType.PAGE:
                continue
            chosen = rng.sample(range(plan.tags), k=min(plan.tags_per_post, plan.tags))
            if plan.internal_tag and position % 10 == 0:
                chosen.append(len(tag_ids) - 1)
            for order, tag_index in enumerate(chosen):
                tag_links.append(
                    {"post_id": post_id, "tag_id": tag_ids[tag_index], "sort_order": order}
                )
        for start in range(0, len(author_links), 5000):
            await session.execute(insert(models.PostAuthor), author_links[start : start + 5000])
        for start in range(0, len(tag_links), 5000):
            await session.execute(insert(models.PostTag), tag_links[start : start + 5000])

    # Fresh statistics, so the planners use the link indexes from the first request on.
    async with db.engine.begin() as connection:
        await connection.exec_driver_sql("ANALYZE")

    return SeedReport(
        owner_email=users[0]["email"],  # type: ignore[arg-type]
        owner_password=password,
        authors=plan.authors,
        tags=len(tags),
        posts=plan.posts,
        drafts=plan.drafts,
        scheduled=plan.scheduled,
        pages=min(plan.pages, 4),
    )
