"""Typed, composable filters and orderings, and the where-clauses they compile to."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, false, func, not_, or_, true

from db import models

E = TypeVar("E", bound=enum.Enum)


@dataclass(frozen=True)
class StringFilter:
    eq: str | None = None
    ne: str | None = None
    in_: Sequence[str] | None = None
    contains: str | None = None  # case-insensitive
    starts_with: str | None = None  # case-insensitive


@dataclass(frozen=True)
class IdFilter:
    eq: int | None = None
    in_: Sequence[int] | None = None


@dataclass(frozen=True)
class BooleanFilter:
    eq: bool | None = None


@dataclass(frozen=True)
class DateTimeFilter:
    eq: datetime | None = None
    gt: datetime | None = None
    gte: datetime | None = None
    lt: datetime | None = None
    lte: datetime | None = None


@dataclass(frozen=True)
class EnumFilter(Generic[E]):
    eq: E | None = None
    in_: Sequence[E] | None = None


@dataclass(frozen=True)
class PostFilter:
    and_: Sequence[PostFilter] = ()
    or_: Sequence[PostFilter] = ()
    not_: PostFilter | None = None
    id: IdFilter | None = None
    slug: StringFilter | None = None
    title: StringFilter | None = None
    status: EnumFilter[models.PostStatus] | None = None
    featured: BooleanFilter | None = None
    published_at: DateTimeFilter | None = None
    created_at: DateTimeFilter | None = None
    updated_at: DateTimeFilter | None = None
    tag: StringFilter | None = None  # the slug of any of the post's tags
    author: StringFilter | None = None  # the slug of any of the post's authors


@dataclass(frozen=True)
class TagFilter:
    and_: Sequence[TagFilter] = ()
    or_: Sequence[TagFilter] = ()
    not_: TagFilter | None = None
    slug: StringFilter | None = None
    name: StringFilter | None = None
    visibility: EnumFilter[models.TagVisibility] | None = None


@dataclass(frozen=True)
class AuthorFilter:
    and_: Sequence[AuthorFilter] = ()
    or_: Sequence[AuthorFilter] = ()
    not_: AuthorFilter | None = None
    slug: StringFilter | None = None
    name: StringFilter | None = None


@dataclass(frozen=True)
class UserFilter:
    role: EnumFilter[models.Role] | None = None
    status: EnumFilter[models.UserStatus] | None = None
    email: StringFilter | None = None


class PostOrderField(enum.Enum):
    PUBLISHED_AT = "published_at"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    TITLE = "title"


class TagOrderField(enum.Enum):
    NAME = "name"
    POST_COUNT = "post_count"


class AuthorOrderField(enum.Enum):
    NAME = "name"
    POST_COUNT = "post_count"


class MediaOrderField(enum.Enum):
    CREATED_AT = "created_at"
    FILENAME = "filename"


# Covariant, as an Order is frozen: inputs.Orderable returns one.
F = TypeVar("F", PostOrderField, TagOrderField, AuthorOrderField, MediaOrderField, covariant=True)


@dataclass(frozen=True)
class Order(Generic[F]):
    field: F
    descending: bool = False


# --- compiling to where-clauses ------------------------------------------------------------


def string_clause(column: SQLColumnExpression[Any], f: StringFilter) -> ColumnElement[bool]:
    clauses: list[ColumnElement[bool]] = []
    if f.eq is not None:
        clauses.append(column == f.eq)
    if f.ne is not None:
        clauses.append(column != f.ne)
    if f.in_ is not None:
        clauses.append(column.in_(list(f.in_)) if f.in_ else false())
    if f.contains is not None:
        clauses.append(func.lower(column).contains(f.contains.lower(), autoescape=True))
    if f.starts_with is not None:
        clauses.append(func.lower(column).startswith(f.starts_with.lower(), autoescape=True))
    return and_(true(), *clauses)


def id_clause(column: ColumnElement[int], f: IdFilter) -> ColumnElement[bool]:
    clauses: list[ColumnElement[bool]] = []
    if f.eq is not None:
        clauses.append(column == f.eq)
    if f.in_ is not None:
        clauses.append(column.in_(list(f.in_)) if f.in_ else false())
    return and_(true(), *clauses)


def boolean_clause(column: ColumnElement[bool], f: BooleanFilter) -> ColumnElement[bool]:
    return true() if f.eq is None else column.is_(f.eq)


def datetime_clause(column: ColumnElement[Any], f: DateTimeFilter) -> ColumnElement[bool]:
    clauses: list[ColumnElement[bool]] = []
    if f.eq is not None:
        clauses.append(column == f.eq)
    if f.gt is not None:
        clauses.append(column > f.gt)
    if f.gte is not None:
        clauses.append(column >= f.gte)
    if f.lt is not None:
        clauses.append(column < f.lt)
    if f.lte is not None:
        clauses.append(column <= f.lte)
    return and_(true(), *clauses)


def enum_clause(
    f: EnumFilter[E], member_clause: Callable[[E], ColumnElement[bool]]
) -> ColumnElement[bool]:
    clauses: list[ColumnElement[bool]] = []
    if f.eq is not None:
        clauses.append(member_clause(f.eq))
    if f.in_ is not None:
        clauses.append(or_(false(), *(member_clause(member) for member in f.in_)))
    return and_(true(), *clauses)


def related_slug_clause(
    f: StringFilter, any_related: Callable[[ColumnElement[bool]], ColumnElement[bool]], slug: Any
) -> ColumnElement[bool]:
    """Match when any related row's slug matches; `ne` means no related row has that slug."""
    clauses: list[ColumnElement[bool]] = []
    if f.ne is not None:
        clauses.append(not_(any_related(slug == f.ne)))
    positive = StringFilter(eq=f.eq, in_=f.in_, contains=f.contains, starts_with=f.starts_with)
    if positive != StringFilter():
        clauses.append(any_related(string_clause(slug, positive)))
    return and_(true(), *clauses)


def combine(
    f: Any,
    own: Callable[[Any], list[ColumnElement[bool]]],
) -> ColumnElement[bool]:
    """Compile a filter with and/or/not: its own fields, then the nested filters."""
    clauses = own(f)
    clauses.extend(combine(sub, own) for sub in f.and_)
    if f.or_:
        clauses.append(or_(*(combine(sub, own) for sub in f.or_)))
    if f.not_ is not None:
        clauses.append(not_(combine(f.not_, own)))
    return and_(true(), *clauses)
