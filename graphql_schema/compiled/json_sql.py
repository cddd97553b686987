"""PostgreSQL expressions that write a response exactly as the general (Strawberry) path does:
compact JSON in selection order (as orjson writes it), ISO datetimes as Python's isoformat,
Relay ids and cursors as base64url without padding, and enum members by name."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from typing import cast as typing_cast

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
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
from sqlalchemy.sql.elements import Null
from sqlalchemy.sql.functions import FunctionElement

from db.repositories.pagination import SortKey, signature


def sql_string(value: str) -> ColumnElement[str]:
    """A string constant written into the statement (keys, type names: never user input)."""
    return literal_column("'" + value.replace("'", "''") + "'", type_=String)


class JsonText(String):
    """The type of an expression whose text is already JSON (objects, arrays, whole data)."""

    cache_ok = True


def as_json(value: ColumnElement[Any]) -> ColumnElement[str]:
    """The JSON text of a value: objects and arrays as they are, scalars through to_json
    (PostgreSQL escapes strings as orjson does: UTF-8 as is, control characters as \\uXXXX),
    NULL as null."""
    if isinstance(value, Null):
        return sql_string("null")
    if isinstance(value.type, JsonText):
        text = value
    elif isinstance(value.type, Integer | Boolean):
        text = cast(func.to_json(value), Text)
    else:  # text, and literals PostgreSQL would otherwise see as of unknown type
        text = cast(func.to_json(cast(value, Text)), Text)
    return func.coalesce(text, sql_string("null"), type_=JsonText)


def json_object(pairs: Sequence[tuple[str, ColumnElement[Any]]]) -> ColumnElement[Any]:
    """A JSON object with these keys in order, written compactly as the general path's encoder
    writes it (json_build_object would add spaces, jsonb would sort the keys)."""
    text: ColumnElement[Any] = sql_string("{")
    for index, (key, value) in enumerate(pairs):
        text = text.concat(sql_string(("," if index else "") + f'"{key}":')).concat(as_json(value))
    return type_coerce(text.concat(sql_string("}")), JsonText)


def json_items(item: ColumnElement[Any], order: Any) -> FunctionElement[Any]:
    """The items' JSON, comma-separated in order: an aggregate (filter it with `.filter()`),
    NULL when there are none; `json_array` brackets it."""
    return func.string_agg(as_json(item), aggregate_order_by(sql_string(","), order))


def json_array(items: ColumnElement[Any]) -> ColumnElement[Any]:
    """A compact JSON array (json_agg would add line breaks); `[]` when there are no items."""
    bracketed = sql_string("[").concat(items).concat(sql_string("]"))
    return type_coerce(func.coalesce(bracketed, sql_string("[]")), JsonText)


def iso_datetime(column: ColumnElement[datetime | None]) -> ColumnElement[str | None]:
    """`datetime.isoformat()` of a UTC timestamp: microseconds only when not zero."""
    utc = func.timezone(sql_string("UTC"), column)
    fraction = case(
        (func.date_trunc(sql_string("second"), column) == column, sql_string("")),
        else_=func.to_char(utc, sql_string(".US")),
    )
    # SQLAlchemy types concat() as str, but a NULL timestamp gives NULL.
    return typing_cast(
        "ColumnElement[str | None]",
        func.to_char(utc, sql_string('YYYY-MM-DD"T"HH24:MI:SS'))
        .concat(fraction)
        .concat(sql_string("+00:00")),
    )


def base64url(text: ColumnElement[str]) -> ColumnElement[str]:
    """base64.urlsafe_b64encode without padding (PostgreSQL wraps lines: drop the newlines)."""
    encoded = func.encode(func.convert_to(text, sql_string("UTF8")), sql_string("base64"))
    translated = func.translate(encoded, literal_column("E'+/\\n'"), sql_string("-_"))
    return func.rtrim(translated, sql_string("="))


def global_id(type_name: str, id_column: ColumnElement[int]) -> ColumnElement[str]:
    return base64url(sql_string(f"{type_name}:").concat(func.cast(id_column, String)))


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
            else func.cast(value, String)
        )
        text = text.concat(sql_string(",")).concat(func.coalesce(rendered, sql_string("null")))
    return base64url(text.concat(sql_string("]")))


def enum_name(column: ColumnElement[Any], enum_type: type[enum.Enum]) -> ColumnElement[str]:
    """Stored enum values (lower case) as GraphQL shows them: the member names."""
    return case(
        *((column == member.value, sql_string(member.name)) for member in enum_type),
        else_=null(),
    )
