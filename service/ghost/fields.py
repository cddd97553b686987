"""Reading one Ghost row's values: text with `__GHOST_URL__` resolved, dates, flags; every
fault is collected, so a broken record is reported with all that is wrong with it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from service.validation import Checker

GHOST_URL = "__GHOST_URL__"


class Invalid(Exception):
    """The record cannot be imported; `problems` say why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class RowReader:
    """Typed access to one row; faults go to a Checker, as for any write in Broadsheet."""

    def __init__(self, row: Any, *, site_url: str) -> None:
        if not isinstance(row, dict):
            raise Invalid([f"expected an object, found {type(row).__name__}"])
        self.row = row
        self.site_url = site_url.rstrip("/")
        self.check = Checker()

    def raw(self, key: str) -> str | None:
        """The string at `key` with links to the Ghost site pointed at this one."""
        value = self.row.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            self.check.problem(key, f"expected text, found {type(value).__name__}")
            return None
        return value.replace(GHOST_URL, self.site_url)

    def text(self, key: str, *, max_length: int, required: bool = False) -> str | None:
        return self.check.text(key, self.raw(key), max_length=max_length, required=required)

    def url(self, key: str, *, relative: bool = True) -> str | None:
        return self.check.url(key, self.raw(key), relative=relative)

    def flag(self, key: str) -> bool:
        value = self.row.get(key)
        return value in (True, 1, "1", "true")

    def date(self, key: str) -> datetime | None:
        """ISO 8601 as Ghost writes it ('2024-05-01T09:30:00.000Z'), or epoch milliseconds
        (exports before Ghost 1.0); a date without a zone is UTC, as Ghost stores them."""
        value = self.row.get(key)
        if value is None or value == "":
            return None
        try:
            if isinstance(value, int | float) and not isinstance(value, bool):
                return datetime.fromtimestamp(value / 1000, UTC)
            parsed = datetime.fromisoformat(str(value))
            # Inside the try: an offset can carry an instant out of the calendar in UTC.
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        except (ValueError, OverflowError, OSError):
            self.check.problem(key, f"not a date: {str(value)[:40]!r}")
            return None

    def document(self, key: str) -> dict[str, Any] | None:
        """A JSON document stored as text (Ghost's lexical and mobiledoc columns)."""
        value = self.raw(key)
        if value is None:
            return None
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as error:
            self.check.problem(key, f"not valid JSON ({error.msg} at {error.pos})")
            return None
        if not isinstance(parsed, dict):
            self.check.problem(key, "not a JSON object")
            return None
        return parsed

    def problem(self, key: str, message: str) -> None:
        self.check.problem(key, message)

    def done(self) -> None:
        """Raise Invalid with every problem found in the row."""
        if self.check.problems:
            raise Invalid([f"{'.'.join(p.field)}: {p.message}" for p in self.check.problems])
