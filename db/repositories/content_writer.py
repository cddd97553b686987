"""Writes to posts and pages, their ordered links and revisions, within the caller's
transaction. Reads for update go through the caller's scope, so what they cannot see is
not found."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from db import models
from db.repositories.scope import Scope

Post = models.Post


class ContentWriter:
    def __init__(self, session: AsyncSession, scope: Scope, *, type: models.PostType) -> None:
        self.session = session
        self.scope = scope
        self.type = type

    async def get_for_update(self, id: int) -> models.Post | None:
        stmt = (
            select(Post)
            .where(Post.id == id, Post.type == self.type, self.scope.posts)
            .with_for_update()
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def slug_taken(self, slug: str, *, except_id: int | None = None) -> bool:
        stmt = select(Post.id).where(
            Post.type == self.type, Post.slug == slug, Post.id != except_id
        )
        return (await self.session.scalar(stmt.limit(1))) is not None

    async def slugs_like(self, base: str) -> set[str]:
        """Slugs of this type equal to `base` or `base-<something>`, to pick a free suffix."""
        stmt = select(Post.slug).where(
            Post.type == self.type,
            (Post.slug == base) | Post.slug.startswith(f"{base}-", autoescape=True),
        )
        return set(await self.session.scalars(stmt))

    async def add(self, post: models.Post) -> models.Post:
        self.session.add(post)
        await self.session.flush()
        return post

    async def author_ids(self, post_id: int) -> list[int]:
        return await self._linked_ids(models.PostAuthor, models.PostAuthor.author_id, post_id)

    async def tag_ids(self, post_id: int) -> list[int]:
        return await self._linked_ids(models.PostTag, models.PostTag.tag_id, post_id)

    async def _linked_ids(
        self,
        link: type[models.PostAuthor] | type[models.PostTag],
        column: InstrumentedAttribute[int],
        post_id: int,
    ) -> list[int]:
        stmt = select(column).where(link.post_id == post_id).order_by(link.sort_order)
        return list(await self.session.scalars(stmt))

    async def set_authors(self, post_id: int, author_ids: Sequence[int]) -> None:
        await self.session.execute(
            delete(models.PostAuthor).where(models.PostAuthor.post_id == post_id)
        )
        self.session.add_all(
            models.PostAuthor(post_id=post_id, author_id=author_id, sort_order=order)
            for order, author_id in enumerate(author_ids)
        )

    async def set_tags(self, post_id: int, tag_ids: Sequence[int]) -> None:
        await self.session.execute(delete(models.PostTag).where(models.PostTag.post_id == post_id))
        self.session.add_all(
            models.PostTag(post_id=post_id, tag_id=tag_id, sort_order=order)
            for order, tag_id in enumerate(tag_ids)
        )

    async def add_revision(self, post: models.Post, *, author_id: int | None) -> None:
        self.session.add(
            models.PostRevision(
                post_id=post.id,
                author_id=author_id,
                title=post.title,
                markdown=post.markdown,
                created_at=post.updated_at,
            )
        )

    async def revision(self, revision_id: int) -> models.PostRevision | None:
        return await self.session.get(models.PostRevision, revision_id)

    async def delete(self, post: models.Post) -> None:
        # Links and revisions go with it (ON DELETE CASCADE).
        await self.session.delete(post)
        await self.session.flush()


Linked = dict[int, list[tuple[int, str]]]  # post id -> [(id, slug)], in order


async def linked_slugs(session: AsyncSession, post_ids: Sequence[int]) -> tuple[Linked, Linked]:
    """Per post: the (id, slug) of its tags and of its authors, in order (two statements
    however many posts)."""
    tags: Linked = {id: [] for id in post_ids}
    authors: Linked = {id: [] for id in post_ids}
    for found, link, target, link_column in (
        (tags, models.PostTag, models.Tag, models.PostTag.tag_id),
        (authors, models.PostAuthor, models.User, models.PostAuthor.author_id),
    ):
        rows = await session.execute(
            select(link.post_id, target.id, target.slug)
            .join(target, target.id == link_column)
            .where(link.post_id.in_(post_ids))
            .order_by(link.post_id, link.sort_order)
        )
        for post_id, id, slug in rows:
            found[post_id].append((id, slug))
    return tags, authors


class LookupBySlugOrId:
    """Resolve authors and tags named by id or slug, keeping the caller's order."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def users(self, ids: Sequence[int], slugs: Sequence[str]) -> dict[int | str, int]:
        return await self._lookup(models.User, ids, slugs)

    async def tags(self, ids: Sequence[int], slugs: Sequence[str]) -> dict[int | str, int]:
        return await self._lookup(models.Tag, ids, slugs)

    async def _lookup(
        self, model: type[models.User] | type[models.Tag], ids: Sequence[int], slugs: Sequence[str]
    ) -> dict[int | str, int]:
        stmt = select(model.id, model.slug).where(model.id.in_(ids) | model.slug.in_(slugs))
        found: dict[int | str, int] = {}
        for id, slug in await self.session.execute(stmt):
            found[id] = id
            found[slug] = id
        return found
