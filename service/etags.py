"""Conditional requests: whether an `If-None-Match` header names an ETag (GraphQL answers and
media files alike)."""

from __future__ import annotations


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether `If-None-Match` names `tag` (or `*`); weak forms compare equal, as RFC 9110
    asks of If-None-Match."""
    if not if_none_match:
        return False
    tags = {part.strip().removeprefix("W/") for part in if_none_match.split(",")}
    return tag in tags or "*" in tags
