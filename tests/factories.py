"""Small typed factories: rows written straight through the data layer."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta

from db import models
from db.base import utcnow
from db.engine import Database
from service import rendering
from service.passwords import hash_password
from service.slugs import slugify

_counter = itertools.count(1)


async def create_user(
    db: Database,
    *,
    name: str | None = None,
    role: models.Role = models.Role.AUTHOR,
    email: str | None = None,
    password: str | None = None,
) -> models.User:
    n = next(_counter)
    name = name or f"Writer {n}"
    user = models.User(
        name=name,
        slug=slugify(name),
        email=email or f"{slugify(name)}@example.com",
        role=role,
        status=models.UserStatus.ACTIVE,
        password_hash=await hash_password(password) if password else None,
    )
    async with db.write_sessions.begin() as session:
        session.add(user)
    return user


async def create_tag(db: Database, name: str, *, slug: str | None = None) -> models.Tag:
    tag = models.Tag(
        name=name,
        slug=slug or (slugify(name) if not name.startswith("#") else f"hash-{slugify(name)}"),
        visibility=models.TagVisibility.for_name(name),
    )
    async with db.write_sessions.begin() as session:
        session.add(tag)
    return tag


async def create_post(
    db: Database,
    title: str,
    *,
    authors: Sequence[models.User],
    tags: Sequence[models.Tag] = (),
    status: models.PostStatus = models.PostStatus.PUBLISHED,
    published_at: datetime | None = None,
    type: models.PostType = models.PostType.POST,
    markdown: str = "Some **body** text.",
    featured: bool = False,
    custom_excerpt: str | None = None,
    slug: str | None = None,
) -> models.Post:
    rendered = rendering.render_markdown(markdown)
    if published_at is None and status is not models.PostStatus.DRAFT:
        published_at = utcnow() - timedelta(minutes=next(_counter))
    post = models.Post(
        type=type,
        status=status,
        title=title,
        slug=slug or slugify(title),
        markdown=markdown,
        html=rendered.html,
        plaintext=rendered.plaintext,
        reading_time=rendered.reading_time,
        custom_excerpt=custom_excerpt,
        excerpt=rendering.excerpt(custom_excerpt=custom_excerpt, plaintext=rendered.plaintext),
        featured=featured,
        published_at=published_at,
    )
    async with db.write_sessions.begin() as session:
        session.add(post)
        await session.flush()
        for order, author in enumerate(authors):
            session.add(models.PostAuthor(post_id=post.id, author_id=author.id, sort_order=order))
        for order, tag in enumerate(tags):
            session.add(models.PostTag(post_id=post.id, tag_id=tag.id, sort_order=order))
    return post
