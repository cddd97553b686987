"""SQL expressions that write a response exactly as the general (Strawberry) path does:
compact JSON in selection order (as orjson writes it), ISO datetimes as Python's isoformat,
Relay ids and cursors as base64url without padding, and enum members by name.

The planner builds one statement for every dialect; the few pieces PostgreSQL and SQLite
write differently are SQLAlchemy constructs below (`json_scalar`, `ordered_items`,
`iso_datetime`, `base64url`), each compiled per dialect. What they need of SQLite:
json_quote (3.38), a subquery in FROM that refers to the enclosing query (SQLite has no
LATERAL keyword; see `correlated`), and the Python functions `install_sqlite_functions`
adds to each connection (base64).
"""

from __future__ import annotations

import enum
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    FromClause,
    Integer,
    Select,
    String,
    Text,
    case,
    cast,
    func,
    literal_column,
    null,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import Null, SQLCoreOperations
from sqlalchemy.sql.functions import FunctionElement

from db.repositories.pagination import SortKey, signature
from service.global_ids import base64url as base64url_text

BASE64URL_FUNCTION = "broadsheet_base64url"  # SQLite's, added by install_sqlite_functions


def sql_string(value: str) -> ColumnElement[str]:
    """A string constant written into the statement (keys, type names: never user input)."""
    return literal_column("'" + value.replace("'", "''") + "'", type_=String)


def sql_integer(value: int) -> ColumnElement[int]:
    """An integer of the planner's own (a LIMIT, an offset, a position) written into the
    statement: PostgreSQL plans a prepared statement without its parameters' values, and a
    plan made without knowing a LIMIT sorts whole tables (plans._members_written_in)."""
    return literal_column(str(value) if value >= 0 else f"({value})", type_=Integer)


class JsonText(String):
    """The type of an expression whose text is already JSON (objects, arrays, whole data)."""

    cache_ok = True


# ---------------------------------------------------------------------------------------------
# Constructs compiled per dialect. Each is rendered by building the dialect's expression and
# compiling that, so every piece of SQL here is a SQLAlchemy expression.


class _Construct(FunctionElement[Any]):
    inherit_cache = True

    @property
    def argument(self) -> ColumnElement[Any]:
        return next(iter(self.clauses))


class json_scalar(_Construct):  # a SQL function, named as one
    """The JSON text of a scalar: strings escaped as orjson escapes them (UTF-8 as is, control
    characters as \\uXXXX), numbers and booleans as JSON writes them; NULL stays NULL."""

    name = "json_scalar"
    type = JsonText()


class ordered_items(_Construct):
    """An aggregate: the items' JSON, comma-separated in `order`; NULL when there are none
    (filter it with `.filter()`; `json_array` brackets it). On SQLite, whose aggregates take
    no ORDER BY before 3.44, the rows must come in that order (`ordered`)."""

    name = "ordered_items"
    type = JsonText()

    def __init__(self, item: ColumnElement[Any], order: Any) -> None:
        super().__init__(as_json(item), order)

    @property
    def order(self) -> Any:
        return list(self.clauses)[1]


class iso_datetime(_Construct):
    """`datetime.isoformat()` of a UTC timestamp: microseconds only when not zero."""

    name = "iso_datetime"
    type = String()


class base64url(_Construct):
    """base64.urlsafe_b64encode of the text's UTF-8, without padding."""

    name = "base64url"
    type = String()


def _render(compiler: SQLCompiler, expression: ColumnElement[Any], **kw: Any) -> str:
    return compiler.process(expression, **kw)


@compiles(json_scalar, "postgresql")
def _json_scalar_postgresql(element: json_scalar, compiler: SQLCompiler, **kw: Any) -> str:
    value = element.argument
    if isinstance(value, iso_datetime):
        return _render(compiler, _json_datetime_postgresql(value), **kw)
    if isinstance(value.type, Integer | Boolean):
        return _render(compiler, cast(func.to_json(value), Text), **kw)
    # Text, and literals PostgreSQL would otherwise see as of unknown type.
    return _render(compiler, cast(func.to_json(cast(value, Text)), Text), **kw)


@compiles(json_scalar, "sqlite")
def _json_scalar_sqlite(element: json_scalar, compiler: SQLCompiler, **kw: Any) -> str:
    value = element.argument
    if isinstance(value.type, Boolean):  # stored as 0 and 1
        return _render(
            compiler,
            case((value, sql_string("true")), (~value, sql_string("false")), else_=null()),
            **kw,
        )
    if isinstance(value.type, Integer):
        return _render(compiler, cast(value, Text), **kw)
    return _render(compiler, func.json_quote(cast(value, Text)), **kw)


@compiles(ordered_items, "postgresql")
def _ordered_items_postgresql(element: ordered_items, compiler: SQLCompiler, **kw: Any) -> str:
    separator = aggregate_order_by(sql_string(","), element.order)
    aggregate = func.string_agg(element.argument, separator)
    return _render(compiler, aggregate, **kw)


@compiles(ordered_items, "sqlite")
def _ordered_items_sqlite(element: ordered_items, compiler: SQLCompiler, **kw: Any) -> str:
    # In the order the rows come: SQLite keeps an ordered subquery's order for an aggregate
    # over it (it never flattens such a subquery into an aggregate query, for this reason).
    return _render(compiler, func.group_concat(element.argument, sql_string(",")), **kw)


@compiles(iso_datetime, "postgresql")
def _iso_datetime_postgresql(element: iso_datetime, compiler: SQLCompiler, **kw: Any) -> str:
    column = element.argument
    utc = func.timezone(sql_string("UTC"), column)
    fraction = case(
        (func.date_trunc(sql_string("second"), column) == column, sql_string("")),
        else_=func.to_char(utc, sql_string(".US")),
    )
    text = (
        func.to_char(utc, sql_string('YYYY-MM-DD"T"HH24:MI:SS'))
        .concat(fraction)
        .concat(sql_string("+00:00"))
    )
    return _render(compiler, text, **kw)


def _json_datetime_postgresql(value: iso_datetime) -> ColumnElement[str]:
    """The JSON string of `iso_datetime`, the cheap way where it is the same: to_json of a
    timestamptz writes isoformat's text in the session's time zone (UTC on the compiled
    path's connections: read_pool), but trims the fraction's trailing zeros (".5" where
    Python writes ".500000"). Those, one value in ten, are written as `iso_datetime`. About
    a fifth less of PostgreSQL's time for a page of 100 posts with three datetimes each."""
    column = value.argument
    microseconds = cast(func.date_part(sql_string("microseconds"), column), Integer)
    trimmed = (microseconds % sql_integer(10) == sql_integer(0)) & (
        func.date_trunc(sql_string("second"), column) != column
    )
    return case(
        (trimmed, cast(func.to_json(cast(value, Text)), Text)),
        else_=cast(func.to_json(column), Text),
    )


@compiles(iso_datetime, "sqlite")
def _iso_datetime_sqlite(element: iso_datetime, compiler: SQLCompiler, **kw: Any) -> str:
    # Stored as UTC text, "YYYY-MM-DD HH:MM:SS.ffffff" (db.base.UTCDateTime), or without the
    # fraction where SQLite's CURRENT_TIMESTAMP wrote it.
    column = element.argument
    time = case(
        (func.substr(column, sql_integer(20)) == sql_string(".000000"), _substr(column, 12, 8)),
        else_=func.substr(column, sql_integer(12)),
    )
    text = _substr(column, 1, 10).concat(sql_string("T")).concat(time).concat(sql_string("+00:00"))
    return _render(compiler, text, **kw)


def _substr(text: ColumnElement[Any], start: int, length: int) -> ColumnElement[str]:
    return func.substr(text, sql_integer(start), sql_integer(length))


@compiles(base64url, "postgresql")
def _base64url_postgresql(element: base64url, compiler: SQLCompiler, **kw: Any) -> str:
    utf8 = func.convert_to(element.argument, sql_string("UTF8"))
    encoded = func.encode(utf8, sql_string("base64"))
    # PostgreSQL wraps lines: drop the newlines with the padding.
    translated = func.translate(encoded, literal_column("E'+/\\n'"), sql_string("-_"))
    return _render(compiler, func.rtrim(translated, sql_string("=")), **kw)


@compiles(base64url, "sqlite")
def _base64url_sqlite(element: base64url, compiler: SQLCompiler, **kw: Any) -> str:
    return _render(compiler, getattr(func, BASE64URL_FUNCTION)(element.argument), **kw)


def install_sqlite_functions(connection: sqlite3.Connection) -> None:
    """What the constructs above call on SQLite, which has no base64 of its own."""
    connection.create_function(BASE64URL_FUNCTION, 1, _base64url, deterministic=True)


def _base64url(value: object) -> str | None:
    return base64url_text(value.encode()) if isinstance(value, str) else None


# ---------------------------------------------------------------------------------------------
# JSON built from the constructs, the same on every dialect.


def as_json(value: ColumnElement[Any]) -> ColumnElement[str]:
    """The JSON text of a value: objects and arrays as they are, scalars through
    `json_scalar`, NULL as null."""
    if isinstance(value, Null):
        return sql_string("null")
    text = value if isinstance(value.type, JsonText) else json_scalar(value)
    return func.coalesce(text, sql_string("null"), type_=JsonText)


def json_object(pairs: Sequence[tuple[str, ColumnElement[Any]]]) -> ColumnElement[Any]:
    """A JSON object with these keys in order, written compactly as the general path's encoder
    writes it (json_build_object would add spaces, jsonb would sort the keys)."""
    text: ColumnElement[Any] = sql_string("{")
    for index, (key, value) in enumerate(pairs):
        separator = sql_string(("," if index else "") + f'"{key}":')
        text = text.concat(separator).concat(as_json(value))
    return type_coerce(text.concat(sql_string("}")), JsonText)


def json_array(items: ColumnElement[Any]) -> ColumnElement[Any]:
    """A compact JSON array of `ordered_items` (json_agg would add line breaks); `[]` when
    there are no items."""
    bracketed = sql_string("[").concat(items).concat(sql_string("]"))
    return type_coerce(func.coalesce(bracketed, sql_string("[]")), JsonText)


def ordered(stmt: Select[Any], *order: Any) -> FromClause:
    """`stmt`'s rows in this order, for an `ordered_items` over them (SQLite needs the rows in
    order; PostgreSQL orders them again in the aggregate, a few rows at most)."""
    return stmt.order_by(*order).subquery()


def correlated(stmt: Select[Any], outer: FromClause, *, lateral: bool) -> FromClause:
    """`stmt` in FROM, referring to `outer` from an enclosing query: LATERAL on PostgreSQL;
    SQLite, which has no such keyword, allows the reference as it is."""
    stmt = stmt.correlate(outer)
    return stmt.lateral() if lateral else stmt.subquery()


def json_elements(
    array: ColumnElement[Any], *, postgresql: bool
) -> tuple[FromClause, ColumnElement[int]]:
    """A stored JSON array's elements as rows (column `value`), and their position."""
    if postgresql:
        rows = (
            func.json_array_elements(array)
            .table_valued("value", with_ordinality="ordinal")
            .render_derived()
        )
        return rows, rows.c.ordinal
    rows = func.json_each(array).table_valued("value", "key")
    return rows, rows.c.key


def global_id(type_name: str, id_column: ColumnElement[int]) -> ColumnElement[str]:
    return base64url(sql_string(f"{type_name}:").concat(cast(id_column, String)))


def cursor_supported(keys: Sequence[SortKey]) -> bool:
    """Cursors are rendered in SQL for datetime and integer keys; text or float keys (titles,
    search rank) go through the general path, whose JSON escaping they depend on."""
    return all(key.kind in (datetime, int) for key in keys)


def cursor(keys: Sequence[SortKey], values: Sequence[ColumnElement[Any]]) -> ColumnElement[str]:
    """`pagination.encode_cursor`: base64url of the compact JSON [signature, *values]."""
    text: ColumnElement[str] = sql_string('["' + signature(keys) + '"')
    for key, value in zip(keys, values, strict=True):
        rendered = (
            sql_string('"').concat(iso_datetime(value)).concat(sql_string('"'))
            if key.kind is datetime
            else cast(value, String)
        )
        text = text.concat(sql_string(",")).concat(func.coalesce(rendered, sql_string("null")))
    return base64url(text.concat(sql_string("]")))


def enum_name(
    column: ColumnElement[Any] | SQLCoreOperations[Any], enum_type: type[enum.Enum]
) -> ColumnElement[str]:
    """Stored enum values (lower case) as GraphQL shows them: the member names."""
    return case(
        *((column == member.value, sql_string(member.name)) for member in enum_type),
        else_=null(),
    )
