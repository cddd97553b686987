"""Per-request DataLoaders, named by access path. Each batch opens its own short session,
because Strawberry resolves siblings concurrently and an AsyncSession must not be shared."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from db import models
from db.engine import Database
from db.repositories import (
    AuthorRepository,
    PageArgs,
    PostRepository,
    Scope,
    SiteSettingsRepository,
    Slice,
    TagRepository,
)
from db.repositories.filters import Order, PostFilter, PostOrderField
from db.repositories.posts import Link
from db.repositories.webhooks import WebhookRepository

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

PostsQuery = tuple[PageArgs, PostFilter | None, tuple[Order[PostOrderField], ...]]


@dataclass
class Loaders:
    db: Database
    scope: Scope
    _by_query: dict[Hashable, DataLoader[Any, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.post_by_id = self._loader(self._posts_by_id(models.PostType.POST))
        self.page_by_id = self._loader(self._posts_by_id(models.PostType.PAGE))
        self.tag_by_id = self._loader(self._tags_by_id)
        self.author_by_id = self._loader(self._authors_by_id)
        self.authors_by_post_id = self._loader(self._authors_by_post_id)
        self.tags_by_post_id = self._loader(self._tags_by_post_id)
        self.site_settings = self._loader(self._site_settings)
        self.revisions_by_post_id = self._loader(self._revisions_by_post_id)
        self.attempts_by_delivery_id = self._loader(self._attempts_by_delivery_id)
        self.event_by_id = self._loader(self._events_by_id)

    def _loader(
        self, batch: Callable[[AsyncSession, list[K]], Awaitable[Sequence[V]]]
    ) -> DataLoader[K, V]:
        async def load(keys: list[K]) -> Sequence[V]:
            async with self.db.read_sessions() as session:
                return await batch(session, keys)

        return DataLoader(load_fn=load)

    def _posts(self, session: AsyncSession) -> PostRepository:
        return PostRepository(session, self.scope)

    def _posts_by_id(
        self, type: models.PostType
    ) -> Callable[[AsyncSession, list[int]], Awaitable[list[models.Post | None]]]:
        async def batch(session: AsyncSession, ids: list[int]) -> list[models.Post | None]:
            found = await PostRepository(session, self.scope, type=type).get_many(ids)
            return [found.get(id) for id in ids]

        return batch

    async def _tags_by_id(self, session: AsyncSession, ids: list[int]) -> list[models.Tag | None]:
        found = await TagRepository(session, self.scope).get_many(ids)
        return [found.get(id) for id in ids]

    async def _authors_by_id(
        self, session: AsyncSession, ids: list[int]
    ) -> list[models.User | None]:
        found = await AuthorRepository(session, self.scope).get_many(ids)
        return [found.get(id) for id in ids]

    async def _authors_by_post_id(
        self, session: AsyncSession, ids: list[int]
    ) -> list[list[models.User]]:
        found = await self._posts(session).authors_of(ids)
        return [found[id] for id in ids]

    async def _tags_by_post_id(
        self, session: AsyncSession, ids: list[int]
    ) -> list[list[tuple[models.Tag, bool]]]:
        found = await self._posts(session).tags_of(ids)
        return [found[id] for id in ids]

    async def _revisions_by_post_id(
        self, session: AsyncSession, ids: list[int]
    ) -> list[list[models.PostRevision]]:
        found = await self._posts(session).revisions_of(ids)
        return [found[id] for id in ids]

    async def _attempts_by_delivery_id(
        self, session: AsyncSession, ids: list[int]
    ) -> list[list[models.WebhookAttempt]]:
        found = await WebhookRepository(session).attempts(ids)
        return [found[id] for id in ids]

    async def _events_by_id(
        self, session: AsyncSession, ids: list[int]
    ) -> list[models.Event | None]:
        found = await WebhookRepository(session).events(ids)
        return [found.get(id) for id in ids]

    async def _site_settings(
        self, session: AsyncSession, keys: list[None]
    ) -> list[models.SiteSettings]:
        settings = await SiteSettingsRepository(session).get()
        return [settings for _ in keys]

    def posts_by_parent_id(self, parent: Link, query: PostsQuery) -> DataLoader[int, Slice[Any]]:
        """Pages of posts per tag or author; one loader (one SQL statement) per distinct query."""
        args, filter, order = query

        async def batch(session: AsyncSession, ids: list[int]) -> list[Slice[Any]]:
            pages = await self._posts(session).pages_by_parent(
                parent, ids, args, filter=filter, order=order
            )
            return [pages[id] for id in ids]

        return self._cached(("posts", parent, query), batch)

    def post_count_by_parent_id(
        self, parent: Link, filter: PostFilter | None = None
    ) -> DataLoader[int, int]:
        """Visible posts per tag or author (matching `filter`)."""

        async def batch(session: AsyncSession, ids: list[int]) -> list[int]:
            counts = await self._posts(session).counts_by_parent(parent, ids, filter=filter)
            return [counts[id] for id in ids]

        return self._cached(("count", parent, filter), batch)

    def _cached(
        self, key: Hashable, batch: Callable[[AsyncSession, list[K]], Awaitable[Sequence[V]]]
    ) -> DataLoader[K, V]:
        if key not in self._by_query:
            self._by_query[key] = self._loader(batch)
        return self._by_query[key]
