"""Field checks shared by every write: lengths, URLs, slugs, colours, locales, time zones.
Each returns the cleaned value or records a Problem, so one response lists every fault."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from service.errors import InvalidInput, Problem
from service.slugs import MAX_SLUG_LENGTH, is_valid_slug

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_LOCALE = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")
MAX_URL = 2000
Field = str | Sequence[str]  # a field name, or a path into nested input


def camel(name: str) -> str:
    """The GraphQL spelling of a field: `feature_image` → `featureImage`."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def _web_url(text: str) -> bool:
    """An http(s) URL with a host that parses: "http://[::1" or a port past 65535 would
    only fail in the reader's browser."""
    if re.match(r"^https?://[^\s/?#]+[^\s]*$", text) is None:
        return False
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  (reading it is the check: it raises on a bad port)
    except ValueError:
        return False
    return bool(parts.hostname)


class Checker:
    """Collects problems across fields; `raise_if_any` ends the write with all of them."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, field: Field, message: str, code: str = "INVALID") -> None:
        path = (field,) if isinstance(field, str) else tuple(field)
        self.problems.append(Problem(message, code, path))

    def raise_if_any(self) -> None:
        if self.problems:
            raise InvalidInput(self.problems)

    def text(
        self, field: Field, value: str | None, *, max_length: int, required: bool = False
    ) -> str | None:
        """Stripped text, None for empty (or a REQUIRED problem), TOO_LONG past the limit."""
        cleaned = value.strip() if value is not None else None
        if not cleaned:
            if required:
                self.problem(field, "This field is required.", "REQUIRED")
            return None
        if len(cleaned) > max_length:
            self.problem(field, f"At most {max_length} characters.", "TOO_LONG")
        if "\x00" in cleaned:
            # The API refuses NUL before any write; other writers (an import) meet it here.
            self.problem(field, "Text may not hold a NUL character (U+0000).")
        return cleaned

    def url(self, field: Field, value: str | None, *, relative: bool = True) -> str | None:
        """An http(s) URL, or (when `relative`) a path on the site starting with '/'."""
        cleaned = self.text(field, value, max_length=MAX_URL)
        if cleaned is None:
            return None
        absolute = _web_url(cleaned)
        site_path = relative and cleaned.startswith("/") and not cleaned.startswith("//")
        if not (absolute or site_path):
            self.problem(
                field, "Use an http(s) URL" + (" or a path starting with /." if relative else ".")
            )
        return cleaned

    def slug(self, field: Field, value: str) -> str:
        if not is_valid_slug(value):
            self.problem(
                field,
                f"Use lower-case letters, digits and single hyphens (at most {MAX_SLUG_LENGTH}).",
            )
        return value

    def colour(self, field: Field, value: str | None) -> str | None:
        cleaned = self.text(field, value, max_length=7)
        if cleaned is not None and not _COLOUR.match(cleaned):
            self.problem(field, "Use a colour like #ff1a75.")
        return cleaned.lower() if cleaned else None

    def locale(self, field: Field, value: str) -> str:
        if not _LOCALE.match(value):
            self.problem(field, "Use a BCP 47 language tag such as 'en' or 'pt-BR'.")
        return value

    def timezone(self, field: Field, value: str) -> str:
        if value not in _timezones():
            self.problem(field, "Use an IANA time zone such as 'Europe/London'.")
        return value
