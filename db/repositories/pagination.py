"""Keyset (cursor) pagination: stable under inserts, no OFFSET scans on deep pages."""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import ColumnElement, Select, SQLColumnExpression, and_, false, or_, true
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 15
MAX_PAGE_SIZE = 100


class InvalidCursor(ValueError):
    """A cursor that this ordering did not produce, or that was tampered with."""


class InvalidPageArgs(ValueError):
    """first/last out of range, or both given."""


@dataclass(frozen=True)
class SortKey:
    """One ORDER BY term. Nullable keys sort their NULLs last in either direction."""

    name: str
    expression: SQLColumnExpression[Any]
    descending: bool
    kind: type = str  # how the value travels in a cursor: str, int, float or datetime
    nullable: bool = False


@dataclass(frozen=True)
class PageArgs:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    def __post_init__(self) -> None:
        for name in ("first", "last"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
                raise InvalidPageArgs(f"`{name}` must be between 0 and {MAX_PAGE_SIZE}")
        if self.first is not None and self.last is not None:
            raise InvalidPageArgs("pass `first` or `last`, not both")

    @property
    def backwards(self) -> bool:
        return self.last is not None or (self.before is not None and self.first is None)

    @property
    def size(self) -> int:
        chosen = self.last if self.backwards else self.first
        return DEFAULT_PAGE_SIZE if chosen is None else chosen


@dataclass(frozen=True)
class Slice(Generic[T]):
    """The rows a connection asked for (first/after, last/before) with their cursors, in the
    requested order. (Not "Page": that is a CMS page, a GraphQL type.)"""

    items: list[tuple[str, T]]
    has_next_page: bool
    has_previous_page: bool


def signature(keys: Sequence[SortKey]) -> str:
    return ",".join(f"{k.name}:{'d' if k.descending else 'a'}" for k in keys)


def encode_cursor(keys: Sequence[SortKey], values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps([signature(keys), *plain], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(keys: Sequence[SortKey], cursor: str) -> list[Any]:
    """The key values in `cursor`. Cursors come back from clients, so anything this module
    would not have written is refused: other types, numbers no column holds, text the
    databases cannot compare (NUL), instants with no UTC form."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        # orjson: strict UTF-8, and nesting deeper than 1,024 is an error, not a RecursionError.
        signed_for, *values = orjson.loads(raw)
    except (binascii.Error, ValueError, TypeError) as error:
        raise InvalidCursor("malformed cursor") from error
    if signed_for != signature(keys) or len(values) != len(keys):
        raise InvalidCursor("this cursor belongs to another ordering")
    try:
        return [_decode_value(key, value) for key, value in zip(keys, values, strict=True)]
    except (TypeError, ValueError, OverflowError) as error:
        raise InvalidCursor("malformed cursor") from error


# Cursor integers are ids and counts, 32-bit columns on PostgreSQL.
_INT_RANGE = range(-(2**31), 2**31)


def _decode_value(key: SortKey, value: Any) -> Any:
    if value is None:
        if not key.nullable:
            raise ValueError("null in a non-nullable key")
        return None
    if isinstance(value, bool):
        raise TypeError("no sort key is a boolean")
    if key.kind is datetime:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("cursor datetimes carry their offset")
        return parsed.astimezone(UTC)
    if key.kind is float and isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError("no rank is infinite")
        return float(value)
    if not isinstance(value, key.kind):
        raise TypeError("wrong cursor value type")
    if isinstance(value, int) and value not in _INT_RANGE:
        raise ValueError("no id or count is that large")
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("text with a NUL character")
    return value


def order_by(keys: Sequence[SortKey], *, reverse: bool = False) -> list[ColumnElement[Any]]:
    terms: list[ColumnElement[Any]] = []
    for key in keys:
        descending = key.descending != reverse
        term = key.expression.desc() if descending else key.expression.asc()
        if key.nullable:
            term = term.nulls_first() if reverse else term.nulls_last()
        terms.append(term)
    return terms


def after_clause(
    keys: Sequence[SortKey], values: Sequence[Any], *, reverse: bool = False
) -> ColumnElement[bool]:
    """Rows strictly after `values` in the order `order_by(keys, reverse=reverse)` gives."""
    alternatives: list[ColumnElement[bool]] = []
    equal_so_far: list[ColumnElement[bool]] = []
    for key, value in zip(keys, values, strict=True):
        descending = key.descending != reverse
        nulls_last = not reverse
        column = key.expression
        if value is None:
            beyond: ColumnElement[bool] = false() if nulls_last else column.is_not(None)
            equal: ColumnElement[bool] = column.is_(None)
        else:
            beyond = column < value if descending else column > value
            if key.nullable and nulls_last:
                beyond = or_(beyond, column.is_(None))
            equal = column == value
        alternatives.append(and_(true(), *equal_so_far, beyond))
        equal_so_far.append(equal)
    return or_(*alternatives)


def cursor_clauses(keys: Sequence[SortKey], args: PageArgs) -> list[ColumnElement[bool]]:
    """The keyset conditions for `after` and `before`."""
    clauses = []
    if args.after is not None:
        clauses.append(after_clause(keys, decode_cursor(keys, args.after)))
    if args.before is not None:
        # Strictly before in the natural order is strictly after in the reversed one.
        clauses.append(after_clause(keys, decode_cursor(keys, args.before), reverse=True))
    return clauses


def apply_window(stmt: Select[Any], keys: Sequence[SortKey], args: PageArgs) -> Select[Any]:
    """Add the keyset conditions, ordering and limit (one extra row tells of another page)."""
    stmt = stmt.where(*cursor_clauses(keys, args))
    return stmt.order_by(*order_by(keys, reverse=args.backwards)).limit(args.size + 1)


def key_columns(keys: Sequence[SortKey]) -> list[ColumnElement[Any]]:
    """The sort keys as labelled columns, so each row carries what its cursor needs."""
    return [key.expression.label(f"_sort_{index}") for index, key in enumerate(keys)]


M = TypeVar("M")


def page_flags(args: PageArgs, more: M) -> tuple[M | bool, M | bool]:
    """(hasNextPage, hasPreviousPage): on the side the page was fetched towards, `more` (the
    fetch found a row beyond the page); on the other, whether a cursor was given there. The
    compiled path passes `more` as an SQL expression, the general path as a bool."""
    if args.backwards:
        return args.before is not None, more
    return more, args.after is not None


def build_slice(rows: Sequence[Any], keys: Sequence[SortKey], args: PageArgs) -> Slice[Any]:
    """Turn rows of (entity, *sort values) fetched by `apply_window` into a Slice."""
    has_next, has_previous = page_flags(args, len(rows) > args.size)
    rows = list(rows[: args.size])
    if args.backwards:
        rows.reverse()
    items = [(encode_cursor(keys, row[1 : 1 + len(keys)]), row[0]) for row in rows]
    return Slice(items, has_next_page=has_next, has_previous_page=has_previous)


async def fetch_slice(
    session: AsyncSession, stmt: Select[Any], keys: Sequence[SortKey], args: PageArgs
) -> Slice[Any]:
    """Run `stmt` (selecting one entity) for one keyset-paginated slice."""
    stmt = apply_window(stmt.add_columns(*key_columns(keys)), keys, args)
    rows = (await session.execute(stmt)).all()
    return build_slice(rows, keys, args)
