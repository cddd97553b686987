"""Filter and order inputs, each turned into the data layer's filter with `to_filter()`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol, TypeVar

import strawberry

from db import models
from db.repositories import filters, media
from graphql_schema.errors import bad_user_input
from graphql_schema.ids import decode_id
from graphql_schema.types.enums import (
    AuthorOrderField,
    MediaOrderField,
    OrderDirection,
    PostOrderField,
    PostStatus,
    Role,
    TagOrderField,
    TagVisibility,
    UserStatus,
)


def as_utc(value: datetime | None) -> datetime | None:
    """Datetimes without an offset are taken as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


F = TypeVar(
    "F",
    filters.PostOrderField,
    filters.TagOrderField,
    filters.AuthorOrderField,
    filters.MediaOrderField,
    covariant=True,
)


class Orderable(Protocol[F]):
    def to_order(self) -> filters.Order[F]: ...


def orders(terms: Sequence[Orderable[F]] | None) -> tuple[filters.Order[F], ...]:
    """An `orderBy` list as the data layer's terms; a field named twice is BAD_USER_INPUT
    (the second could never decide anything, and each term grows the keyset condition)."""
    converted = tuple(term.to_order() for term in terms or ())
    fields = [term.field for term in converted]
    if len(set(fields)) != len(fields):
        raise bad_user_input("`orderBy` names a field more than once.")
    return converted


def _tuple(values: list[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(values)


@strawberry.input(description="Conditions on a text field; all given conditions must hold.")
class StringFilter:
    eq: str | None = strawberry.field(default=None, description="Equal to.")
    ne: str | None = strawberry.field(default=None, description="Not equal to.")
    in_: list[str] | None = strawberry.field(
        default=None, name="in", description="Equal to one of these."
    )
    contains: str | None = strawberry.field(
        default=None, description="Contains this text (case-insensitive)."
    )
    starts_with: str | None = strawberry.field(
        default=None, description="Starts with this text (case-insensitive)."
    )

    def to_filter(self) -> filters.StringFilter:
        return filters.StringFilter(
            eq=self.eq,
            ne=self.ne,
            in_=_tuple(self.in_),
            contains=self.contains,
            starts_with=self.starts_with,
        )


@strawberry.input(description="Conditions on an id.")
class IDFilter:
    eq: strawberry.ID | None = strawberry.field(default=None, description="This id.")
    in_: list[strawberry.ID] | None = strawberry.field(
        default=None, name="in", description="One of these ids."
    )

    def to_filter(self, type_name: str) -> filters.IdFilter:
        return filters.IdFilter(
            eq=None if self.eq is None else decode_id(self.eq, type_name),
            in_=None if self.in_ is None else tuple(decode_id(i, type_name) for i in self.in_),
        )


@strawberry.input(description="Conditions on a true/false field.")
class BooleanFilter:
    eq: bool | None = strawberry.field(default=None, description="Equal to.")

    def to_filter(self) -> filters.BooleanFilter:
        return filters.BooleanFilter(eq=self.eq)


@strawberry.input(description="Conditions on a date and time; all given conditions must hold.")
class DateTimeFilter:
    eq: datetime | None = strawberry.field(default=None, description="At exactly.")
    gt: datetime | None = strawberry.field(default=None, description="Strictly after.")
    gte: datetime | None = strawberry.field(default=None, description="At or after.")
    lt: datetime | None = strawberry.field(default=None, description="Strictly before.")
    lte: datetime | None = strawberry.field(default=None, description="At or before.")

    def to_filter(self) -> filters.DateTimeFilter:
        return filters.DateTimeFilter(
            eq=as_utc(self.eq),
            gt=as_utc(self.gt),
            gte=as_utc(self.gte),
            lt=as_utc(self.lt),
            lte=as_utc(self.lte),
        )


@strawberry.input(description="Conditions on a post's status.")
class PostStatusFilter:
    eq: PostStatus | None = strawberry.field(default=None, description="This status.")
    in_: list[PostStatus] | None = strawberry.field(
        default=None, name="in", description="One of these statuses."
    )

    def to_filter(self) -> filters.EnumFilter[models.PostStatus]:
        return filters.EnumFilter(eq=self.eq, in_=None if self.in_ is None else tuple(self.in_))


@strawberry.input(description="Conditions on a tag's visibility.")
class TagVisibilityFilter:
    eq: TagVisibility | None = strawberry.field(default=None, description="This visibility.")
    in_: list[TagVisibility] | None = strawberry.field(
        default=None, name="in", description="One of these visibilities."
    )

    def to_filter(self) -> filters.EnumFilter[models.TagVisibility]:
        return filters.EnumFilter(eq=self.eq, in_=None if self.in_ is None else tuple(self.in_))


@strawberry.input(description="Conditions on a staff role.")
class RoleFilter:
    eq: Role | None = strawberry.field(default=None, description="This role.")
    in_: list[Role] | None = strawberry.field(
        default=None, name="in", description="One of these roles."
    )

    def to_filter(self) -> filters.EnumFilter[models.Role]:
        return filters.EnumFilter(eq=self.eq, in_=None if self.in_ is None else tuple(self.in_))


@strawberry.input(description="Conditions on a staff user's status.")
class UserStatusFilter:
    eq: UserStatus | None = strawberry.field(default=None, description="This status.")
    in_: list[UserStatus] | None = strawberry.field(
        default=None, name="in", description="One of these statuses."
    )

    def to_filter(self) -> filters.EnumFilter[models.UserStatus]:
        return filters.EnumFilter(eq=self.eq, in_=None if self.in_ is None else tuple(self.in_))


@strawberry.input(
    description="Which posts or pages to return. Fields combine with AND; use `and`, `or` "
    "and `not` to compose."
)
class PostFilter:
    and_: list[PostFilter] | None = strawberry.field(
        default=None, name="and", description="All of these hold."
    )
    or_: list[PostFilter] | None = strawberry.field(
        default=None, name="or", description="At least one of these holds."
    )
    not_: PostFilter | None = strawberry.field(
        default=None, name="not", description="This does not hold."
    )
    id: IDFilter | None = strawberry.field(default=None, description="By id.")
    slug: StringFilter | None = strawberry.field(default=None, description="By slug.")
    title: StringFilter | None = strawberry.field(default=None, description="By title.")
    status: PostStatusFilter | None = strawberry.field(default=None, description="By status.")
    featured: BooleanFilter | None = strawberry.field(default=None, description="Featured or not.")
    published_at: DateTimeFilter | None = strawberry.field(
        default=None, description="By publication time."
    )
    created_at: DateTimeFilter | None = strawberry.field(
        default=None, description="By creation time."
    )
    updated_at: DateTimeFilter | None = strawberry.field(
        default=None, description="By last update."
    )
    tag: StringFilter | None = strawberry.field(
        default=None, description="Matches the slug of any of the post's tags."
    )
    author: StringFilter | None = strawberry.field(
        default=None, description="Matches the slug of any of the post's authors."
    )

    def to_filter(self, type_name: str = "Post") -> filters.PostFilter:
        return filters.PostFilter(
            and_=tuple(f.to_filter(type_name) for f in self.and_ or ()),
            or_=tuple(f.to_filter(type_name) for f in self.or_ or ()),
            not_=None if self.not_ is None else self.not_.to_filter(type_name),
            id=None if self.id is None else self.id.to_filter(type_name),
            slug=None if self.slug is None else self.slug.to_filter(),
            title=None if self.title is None else self.title.to_filter(),
            status=None if self.status is None else self.status.to_filter(),
            featured=None if self.featured is None else self.featured.to_filter(),
            published_at=None if self.published_at is None else self.published_at.to_filter(),
            created_at=None if self.created_at is None else self.created_at.to_filter(),
            updated_at=None if self.updated_at is None else self.updated_at.to_filter(),
            tag=None if self.tag is None else self.tag.to_filter(),
            author=None if self.author is None else self.author.to_filter(),
        )


@strawberry.input(description="Which tags to return; compose with `and`, `or`, `not`.")
class TagFilter:
    and_: list[TagFilter] | None = strawberry.field(
        default=None, name="and", description="All of these hold."
    )
    or_: list[TagFilter] | None = strawberry.field(
        default=None, name="or", description="At least one of these holds."
    )
    not_: TagFilter | None = strawberry.field(
        default=None, name="not", description="This does not hold."
    )
    slug: StringFilter | None = strawberry.field(default=None, description="By slug.")
    name: StringFilter | None = strawberry.field(default=None, description="By name.")
    visibility: TagVisibilityFilter | None = strawberry.field(
        default=None, description="By visibility."
    )

    def to_filter(self) -> filters.TagFilter:
        return filters.TagFilter(
            and_=tuple(f.to_filter() for f in self.and_ or ()),
            or_=tuple(f.to_filter() for f in self.or_ or ()),
            not_=None if self.not_ is None else self.not_.to_filter(),
            slug=None if self.slug is None else self.slug.to_filter(),
            name=None if self.name is None else self.name.to_filter(),
            visibility=None if self.visibility is None else self.visibility.to_filter(),
        )


@strawberry.input(description="Which authors to return; compose with `and`, `or`, `not`.")
class AuthorFilter:
    and_: list[AuthorFilter] | None = strawberry.field(
        default=None, name="and", description="All of these hold."
    )
    or_: list[AuthorFilter] | None = strawberry.field(
        default=None, name="or", description="At least one of these holds."
    )
    not_: AuthorFilter | None = strawberry.field(
        default=None, name="not", description="This does not hold."
    )
    slug: StringFilter | None = strawberry.field(default=None, description="By slug.")
    name: StringFilter | None = strawberry.field(default=None, description="By name.")

    def to_filter(self) -> filters.AuthorFilter:
        return filters.AuthorFilter(
            and_=tuple(f.to_filter() for f in self.and_ or ()),
            or_=tuple(f.to_filter() for f in self.or_ or ()),
            not_=None if self.not_ is None else self.not_.to_filter(),
            slug=None if self.slug is None else self.slug.to_filter(),
            name=None if self.name is None else self.name.to_filter(),
        )


@strawberry.input(description="Which staff users to return.")
class UserFilter:
    role: RoleFilter | None = strawberry.field(default=None, description="By role.")
    status: UserStatusFilter | None = strawberry.field(default=None, description="By status.")
    email: StringFilter | None = strawberry.field(default=None, description="By email.")

    def to_filter(self) -> filters.UserFilter:
        return filters.UserFilter(
            role=None if self.role is None else self.role.to_filter(),
            status=None if self.status is None else self.status.to_filter(),
            email=None if self.email is None else self.email.to_filter(),
        )


@strawberry.input(description="Which files of the media library to return.")
class MediaFilter:
    search: str | None = strawberry.field(
        default=None, description="Words in the file name, alt text or caption."
    )
    mime_type: str | None = strawberry.field(
        default=None, description='A MIME type ("image/png"), or a family ("image/").'
    )

    def to_filter(self) -> media.MediaFilter:
        return media.MediaFilter(search=self.search, mime_type=self.mime_type)


@strawberry.input(description="One ordering term for posts and pages.")
class PostOrder:
    field: PostOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC, description="Which way."
    )

    def to_order(self) -> filters.Order[filters.PostOrderField]:
        return filters.Order(self.field, descending=self.direction is OrderDirection.DESC)


@strawberry.input(description="One ordering term for tags.")
class TagOrder:
    field: TagOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Which way."
    )

    def to_order(self) -> filters.Order[filters.TagOrderField]:
        return filters.Order(self.field, descending=self.direction is OrderDirection.DESC)


@strawberry.input(description="One ordering term for authors.")
class AuthorOrder:
    field: AuthorOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Which way."
    )

    def to_order(self) -> filters.Order[filters.AuthorOrderField]:
        return filters.Order(self.field, descending=self.direction is OrderDirection.DESC)


@strawberry.input(description="One ordering term for the media library.")
class MediaOrder:
    field: MediaOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC, description="Which way."
    )

    def to_order(self) -> filters.Order[filters.MediaOrderField]:
        return filters.Order(self.field, descending=self.direction is OrderDirection.DESC)
