"""GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/): which media type
a response is sent in, and the status code that media type calls for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

APPLICATION_JSON = "application/json"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
# Offered in this order: on a tie (`*/*`, `application/*`) the legacy type wins, so clients
# that name neither type keep getting what they always got.
OFFERED = (APPLICATION_JSON, GRAPHQL_RESPONSE_JSON)
# Request bodies past this size are parsed off the event loop (tens of milliseconds of work).
LARGE_BODY_BYTES = 64 * 1024


def negotiate(accept: str | None) -> str | None:
    """The media type to answer in for an `Accept` header, or None when the client accepts
    neither (the spec recommends 406 then).

    No header (or an empty one) is treated as `application/json`, the spec's rule for legacy
    clients (graphql-http's audit expects it too). Otherwise the highest `q` wins; at equal `q`
    a type the client named beats one it reached by a wildcard, then the one listed first.
    """
    if accept is None or not accept.strip():
        return APPLICATION_JSON
    ranges = [parsed for parsed in map(_media_range, accept.split(",")) if parsed is not None]
    best: tuple[float, int, int] | None = None
    chosen: str | None = None
    for offered in OFFERED:
        match = _best_match(offered, ranges)
        if match is None:
            continue
        q, specificity, position = match
        if q <= 0:
            continue
        key = (q, int(specificity == 2), -position)
        if best is None or key > best:
            best, chosen = key, offered
    return chosen


def _media_range(part: str) -> tuple[str, float] | None:
    media, *params = part.split(";")
    media = media.strip().lower()
    if media.count("/") != 1:
        return None
    q = 1.0
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                q = 0.0  # a malformed weight accepts nothing rather than everything
    return media, q


def _best_match(offered: str, ranges: list[tuple[str, float]]) -> tuple[float, int, int] | None:
    """(q, specificity, position) of the most specific range covering `offered` (RFC 9110:
    the most specific range decides its weight)."""
    kind = offered.split("/")[0]
    best: tuple[float, int, int] | None = None
    for position, (media, q) in enumerate(ranges):
        if media == offered:
            specificity = 2
        elif media in (f"{kind}/*", "*/*"):
            specificity = int(media != "*/*")
        else:
            continue
        if best is None or specificity > best[1]:
            best = (q, specificity, position)
    return best


def content_type(media_type: str) -> str:
    # application/json stays exactly as it was sent before (JSON is UTF-8 by definition);
    # the new type states its encoding, as the spec asks.
    return media_type if media_type == APPLICATION_JSON else f"{media_type}; charset=utf-8"


def is_request_error(body: Mapping[str, Any]) -> bool:
    """True when the response reports errors that stopped the request before execution
    (parsing, validation, limits, variables, persisted queries): no data and no error with a
    path. A field error always has a path, even when it nulls the whole `data`."""
    errors = body.get("errors") or []
    return (
        bool(errors)
        and body.get("data") is None
        and not any(isinstance(error, Mapping) and error.get("path") for error in errors)
    )


def is_malformed_request(body: Mapping[str, Any]) -> bool:
    """A refusal of a request that is not GraphQL at all (a malformed body, an operation name
    that picks no operation): a 400 without `data` in either media type."""
    return is_request_error(body) and error_codes(body) == {"BAD_REQUEST"}


def graphql_response_status(body: Mapping[str, Any]) -> int:
    """The status of an application/graphql-response+json response: 200 once execution
    started (field errors included), else 4xx, or 500 when the failure was ours."""
    if not is_request_error(body):
        return 200
    codes = error_codes(body)
    if codes == {"PERSISTED_QUERY_NOT_FOUND"}:
        # Apollo's persisted-query link retries with the document on this error, but gives up
        # on persisted queries altogether when it arrives with a 400 or 500 (as Apollo Server,
        # answer 200).
        return 200
    if "INTERNAL_SERVER_ERROR" in codes:
        return 500
    return 400


def error_codes(body: Mapping[str, Any]) -> set[str]:
    codes: set[str] = set()
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code") if isinstance(error, Mapping) else None
        if isinstance(code, str):
            codes.add(code)
    return codes
