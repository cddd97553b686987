"""Broadsheet's DateTime: ISO 8601 in, UTC out. An instant without an offset is taken as UTC;
one that has no UTC form (`0001-01-01T00:00:00+01:00` falls in year 0) is the client's
error, refused as the value is read instead of failing in the database."""

from __future__ import annotations

from datetime import UTC, datetime

import dateutil.parser
import strawberry
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.schema.types.base_scalars import DateTimeDefinition


def utc_instant(value: object) -> datetime:
    """An aware UTC datetime from the client's ISO 8601 text."""
    if not isinstance(value, str):
        raise StrawberryInputCoercionError(
            f"Value cannot represent a DateTime: {str(value)[:40]!r}. Expected a string."
        )
    try:
        parsed: datetime = dateutil.parser.isoparse(value)
    except (ValueError, OverflowError):
        raise StrawberryInputCoercionError(
            f"Value cannot represent a DateTime: {value[:40]!r}. Expected ISO 8601."
        ) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise StrawberryInputCoercionError(
            f"Value cannot represent a DateTime: {value[:40]!r} lies outside the years "
            "1 to 9999 in UTC."
        ) from None


def iso_8601(value: datetime) -> str:
    return value.isoformat()


DATETIME = strawberry.scalar(
    name=DateTimeDefinition.name,
    description=DateTimeDefinition.description,
    serialize=iso_8601,
    parse_value=utc_instant,
)
