"""Opaque global ids ("Post:12", base64url-encoded): the ids clients see, in GraphQL and in
event payloads alike."""

from __future__ import annotations

import base64


def base64url(raw: bytes) -> str:
    """base64url without padding, as ids are written (and cursors, in SQL too)."""
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def to_global_id(type_name: str, id: int) -> str:
    return base64url(f"{type_name}:{id}".encode())
