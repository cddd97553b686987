"""What one HTTP request was, filled in while it runs: its id and the GraphQL operations it
answered. The observability middleware makes it; GraphQL code adds to it through
`current_request()` (graphql_schema/observability.py)."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterable
from contextvars import ContextVar, Token
from dataclasses import dataclass, field

REQUEST_ID_HEADER = b"x-request-id"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
ANONYMOUS_OPERATION = "(anonymous)"
UNKNOWN_OPERATION_TYPE = "unknown"


@dataclass
class GraphQLOutcome:
    """What one GraphQL operation was and which error codes it answered with."""

    operation_type: str
    operation_name: str | None
    error_codes: list[str] = field(default_factory=list)


@dataclass
class RequestRecord:
    """Filled in while a request runs; logged and counted when it ends."""

    request_id: str
    # One per operation: a batched request runs several.
    graphql: list[GraphQLOutcome] = field(default_factory=list)
    # Set by a handler that answers before any route matches (the compiled GraphQL path,
    # /media).
    route: str | None = None


_current: ContextVar[RequestRecord | None] = ContextVar("broadsheet_request", default=None)


def current_request() -> RequestRecord | None:
    """The record of the HTTP request being served, or None outside one."""
    return _current.get()


def enter(record: RequestRecord) -> Token[RequestRecord | None]:
    """Make `record` the current request's, until `leave` is given the token."""
    return _current.set(record)


def leave(token: Token[RequestRecord | None]) -> None:
    _current.reset(token)


class _RequestIds:
    """Fresh request ids: 32 hex digits (the shape of uuid4().hex), a random half chosen once
    per process and a count. Unique across workers and hosts as uuid4s are, without a call to
    the kernel's random source per request (a cache hit noticed that)."""

    def __init__(self) -> None:
        self._start()
        os.register_at_fork(after_in_child=self._start)  # a forked worker must not repeat ids

    def _start(self) -> None:
        self._process = os.urandom(8).hex()
        self._count = itertools.count()

    def next(self) -> str:
        return f"{self._process}{next(self._count):016x}"


_fresh_ids = _RequestIds()


def request_id_from(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The client's X-Request-ID when well-formed, else a fresh one."""
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            candidate = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return _fresh_ids.next()
