"""Domain errors: each carries a code (SPEC's userError codes) and the input field it is about.

One helper in graphql_schema turns them into `userErrors`, one REST handler into `{"detail"}`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Problem:
    """One thing wrong with an input: where (`field` path), what, and its code."""

    message: str
    code: str = "INVALID"
    field: Sequence[str] = ()


@dataclass
class InvalidInput(Exception):
    """The input cannot be accepted; nothing was written."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(problem.message for problem in self.problems)

    @classmethod
    def one(cls, message: str, *, code: str = "INVALID", field: Sequence[str] = ()) -> InvalidInput:
        return cls([Problem(message, code, tuple(field))])


class NotFound(Exception):
    """The object does not exist, or the caller may not see it (the two are not told apart)."""


class Forbidden(Exception):
    """The caller may see the object but may not do this to it."""


class Unauthenticated(Exception):
    """No valid credentials where some are needed."""
