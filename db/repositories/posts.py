"""Posts and pages: lookups, filtered connections, per-parent pages and counts, links."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, and_, exists, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.repositories.filters import (
    Order,
    PostFilter,
    PostOrderField,
    boolean_clause,
    combine,
    datetime_clause,
    enum_clause,
    id_clause,
    related_slug_clause,
    string_clause,
)
from db.repositories.pagination import (
    PageArgs,
    Slice,
    SortKey,
    build_slice,
    cursor_clauses,
    fetch_slice,
    key_columns,
    order_by,
)
from db.repositories.scope import Scope
from db.repositories.search import apply_search

Post = models.Post
ID_KEY_ASC = SortKey("id", Post.id, descending=False, kind=int)
ID_KEY_DESC = SortKey("id", Post.id, descending=True, kind=int)

_ORDER_COLUMNS: dict[PostOrderField, tuple[SQLColumnExpression[Any], type, bool]] = {
    PostOrderField.PUBLISHED_AT: (Post.published_at, datetime, True),
    PostOrderField.CREATED_AT: (Post.created_at, datetime, False),
    PostOrderField.UPDATED_AT: (Post.updated_at, datetime, False),
    PostOrderField.TITLE: (Post.title, str, False),
}
DEFAULT_ORDER = (Order(PostOrderField.PUBLISHED_AT, descending=True),)

# What links a post to the tags or authors it is grouped under, and the link's parent column.
Link = type[models.PostTag] | type[models.PostAuthor]
ParentColumn = SQLColumnExpression[int]


def effective_status_clause(status: models.PostStatus, now: datetime) -> ColumnElement[bool]:
    """A scheduled post whose time has come reads, filters and shows as published."""
    not_draft = Post.status != models.PostStatus.DRAFT
    if status is models.PostStatus.DRAFT:
        return Post.status == models.PostStatus.DRAFT
    if status is models.PostStatus.PUBLISHED:
        return and_(not_draft, Post.published_at <= now)
    return and_(not_draft, Post.published_at > now)


def sort_keys(order: Sequence[Order[PostOrderField]]) -> list[SortKey]:
    """The ORDER BY terms for `order`, always ending with the id so the order is total."""
    keys = []
    for term in order or DEFAULT_ORDER:
        expression, kind, nullable = _ORDER_COLUMNS[term.field]
        name = term.field.value
        keys.append(SortKey(name, expression, term.descending, kind=kind, nullable=nullable))
    return [*keys, ID_KEY_DESC if keys[-1].descending else ID_KEY_ASC]


class PostRepository:
    """Reads of one content type (posts or pages) within what the caller may see."""

    def __init__(
        self,
        session: AsyncSession,
        scope: Scope,
        *,
        type: models.PostType = models.PostType.POST,
    ) -> None:
        self.session = session
        self.scope = scope
        self.type = type

    def visible(self) -> Select[models.Post]:
        return select(Post).where(Post.type == self.type, self.scope.posts)

    def filter_clause(self, f: PostFilter | None) -> ColumnElement[bool]:
        if f is None:
            return true()
        return combine(f, self._own_clauses)

    def _own_clauses(self, f: PostFilter) -> list[ColumnElement[bool]]:
        now = self.scope.now
        clauses: list[ColumnElement[bool]] = []
        simple: list[tuple[Any, Callable[[Any, Any], ColumnElement[bool]], Any]] = [
            (f.id, id_clause, Post.id),
            (f.slug, string_clause, Post.slug),
            (f.title, string_clause, Post.title),
            (f.featured, boolean_clause, Post.featured),
            (f.published_at, datetime_clause, Post.published_at),
            (f.created_at, datetime_clause, Post.created_at),
            (f.updated_at, datetime_clause, Post.updated_at),
        ]
        clauses.extend(build(column, sub) for sub, build, column in simple if sub is not None)
        if f.status is not None:
            clauses.append(enum_clause(f.status, lambda s: effective_status_clause(s, now)))
        if f.tag is not None:
            # Only tags the caller can see may match, or filters would reveal internal tags.
            visible_tags = self.scope.tags
            clauses.append(
                related_slug_clause(
                    f.tag, lambda cond: _any_tag(and_(cond, visible_tags)), models.Tag.slug
                )
            )
        if f.author is not None:
            clauses.append(related_slug_clause(f.author, _any_author, models.User.slug))
        return clauses

    def listing(
        self, f: PostFilter | None, search: str | None, order: Sequence[Order[PostOrderField]]
    ) -> tuple[Select[Any], list[SortKey]]:
        stmt = self.visible().where(self.filter_clause(f))
        if search is None:
            return stmt, sort_keys(order)
        assert self.session.bind is not None  # every session is made bound to an engine
        stmt, rank = apply_search(stmt, search, dialect=self.session.bind.dialect.name)
        # Relevance decides unless the caller asked for an order.
        return stmt, sort_keys(order) if order else [rank, ID_KEY_DESC]

    async def get(self, *, id: int | None = None, slug: str | None = None) -> models.Post | None:
        stmt = self.visible()
        if id is not None:
            stmt = stmt.where(Post.id == id)
        if slug is not None:
            stmt = stmt.where(Post.slug == slug)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get_many(self, ids: Sequence[int]) -> dict[int, models.Post]:
        rows = await self.session.scalars(self.visible().where(Post.id.in_(ids)))
        return {post.id: post for post in rows}

    async def page(
        self,
        args: PageArgs,
        *,
        filter: PostFilter | None = None,
        order: Sequence[Order[PostOrderField]] = (),
        search: str | None = None,
    ) -> Slice[models.Post]:
        stmt, keys = self.listing(filter, search, order)
        return await fetch_slice(self.session, stmt, keys, args)

    async def count(self, *, filter: PostFilter | None = None, search: str | None = None) -> int:
        stmt, _ = self.listing(filter, search, ())
        subquery = stmt.with_only_columns(Post.id).subquery()
        return (await self.session.execute(select(func.count()).select_from(subquery))).scalar_one()

    def linked(self, link: Link, f: PostFilter | None) -> tuple[Select[Any], ParentColumn]:
        """The visible posts (matching `f`) of every tag or author, each once per parent, and
        the column naming the parent: what `Tag.posts`, `Author.posts` and `postCount` count
        and list on both paths (the general path for a batch of parents, the compiled one
        correlated to each)."""
        parent = parent_column(link)
        stmt = self.visible().join(link, link.post_id == Post.id).where(self.filter_clause(f))
        return stmt, parent

    async def pages_by_parent(
        self,
        link: Link,
        parent_ids: Sequence[int],
        args: PageArgs,
        *,
        filter: PostFilter | None = None,
        order: Sequence[Order[PostOrderField]] = (),
    ) -> dict[int, Slice[models.Post]]:
        """One page of posts for each tag or author, in one statement (top-N per group)."""
        linked, parent = self.linked(link, filter)
        keys = sort_keys(order)
        ranked = (
            linked.with_only_columns(
                Post.id.label("post_id"),
                parent.label("parent_id"),
                func.row_number()
                .over(partition_by=parent, order_by=order_by(keys, reverse=args.backwards))
                .label("position"),
            )
            .where(parent.in_(parent_ids), *cursor_clauses(keys, args))
            .subquery()
        )
        stmt = (
            select(Post, *key_columns(keys), ranked.c.parent_id)
            .join(ranked, ranked.c.post_id == Post.id)
            .where(ranked.c.position <= args.size + 1)
            .order_by(ranked.c.parent_id, ranked.c.position)
        )
        grouped: dict[int, list[Any]] = defaultdict(list)
        for row in (await self.session.execute(stmt)).all():
            grouped[row[-1]].append(row)
        return {pid: build_slice(grouped.get(pid, []), keys, args) for pid in parent_ids}

    async def counts_by_parent(
        self, link: Link, parent_ids: Sequence[int], *, filter: PostFilter | None = None
    ) -> dict[int, int]:
        """How many visible posts (matching `filter`) each tag or author has."""
        linked, parent = self.linked(link, filter)
        stmt = (
            linked.with_only_columns(parent, func.count())
            .where(parent.in_(parent_ids))
            .group_by(parent)
        )
        counts = dict((await self.session.execute(stmt)).all())
        return {pid: counts.get(pid, 0) for pid in parent_ids}

    async def authors_of(self, post_ids: Sequence[int]) -> dict[int, list[models.User]]:
        """Each post's authors in order. Authors of a post the caller sees are visible too."""
        stmt = (
            select(models.PostAuthor.post_id, models.User)
            .join(models.User, models.User.id == models.PostAuthor.author_id)
            .where(models.PostAuthor.post_id.in_(post_ids))
            .order_by(models.PostAuthor.post_id, models.PostAuthor.sort_order)
        )
        result: dict[int, list[models.User]] = {pid: [] for pid in post_ids}
        for post_id, user in await self.session.execute(stmt):
            result[post_id].append(user)
        return result

    async def tags_of(self, post_ids: Sequence[int]) -> dict[int, list[tuple[models.Tag, bool]]]:
        """Each post's tags in order, each with whether the caller may see it."""
        stmt = (
            select(models.PostTag.post_id, models.Tag, self.scope.tags.label("visible"))
            .join(models.Tag, models.Tag.id == models.PostTag.tag_id)
            .where(models.PostTag.post_id.in_(post_ids))
            .order_by(models.PostTag.post_id, models.PostTag.sort_order)
        )
        result: dict[int, list[tuple[models.Tag, bool]]] = {pid: [] for pid in post_ids}
        for post_id, tag, visible in await self.session.execute(stmt):
            result[post_id].append((tag, bool(visible)))
        return result

    async def revisions_of(self, post_ids: Sequence[int]) -> dict[int, list[models.PostRevision]]:
        """Each post's revisions, newest first (callers check the caller is staff)."""
        stmt = (
            select(models.PostRevision)
            .where(models.PostRevision.post_id.in_(post_ids))
            .order_by(models.PostRevision.created_at.desc(), models.PostRevision.id.desc())
        )
        result: dict[int, list[models.PostRevision]] = {pid: [] for pid in post_ids}
        for revision in await self.session.scalars(stmt):
            result[revision.post_id].append(revision)
        return result


def parent_column(link: Link) -> ParentColumn:
    return models.PostTag.tag_id if link is models.PostTag else models.PostAuthor.author_id


def _any_tag(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists(
        select(models.PostTag.post_id)
        .join(models.Tag, models.Tag.id == models.PostTag.tag_id)
        .where(models.PostTag.post_id == Post.id, condition)
    )


def _any_author(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists(
        select(models.PostAuthor.post_id)
        .join(models.User, models.User.id == models.PostAuthor.author_id)
        .where(models.PostAuthor.post_id == Post.id, condition)
    )
