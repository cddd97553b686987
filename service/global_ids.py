"""Opaque global ids ("Post:12", base64url-encoded): the ids clients see, in GraphQL and in
event payloads alike."""

from __future__ import annotations

import base64


def to_global_id(type_name: str, id: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{id}".encode()).decode().rstrip("=")
