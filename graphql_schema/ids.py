"""Opaque global ids ("Post:12", base64url-encoded), as Relay's object identification asks."""

from __future__ import annotations

import base64
import binascii

from graphql_schema.errors import bad_user_input
from service.global_ids import to_global_id

__all__ = ["decode_id", "parse_global_id", "to_global_id"]

NODE_TYPES = frozenset({"Post", "Page", "Tag", "Author", "StaffUser"})
KNOWN_TYPES = NODE_TYPES | {"Revision", "ApiKey", "Webhook", "WebhookDelivery", "Media"}
MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL


def parse_global_id(global_id: str) -> tuple[str, int]:
    """(type name, database id); a malformed id is a BAD_USER_INPUT error."""
    invalid = bad_user_input(f"'{global_id[:100]}' is not a valid id")
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid from None
    type_name, _, number = raw.partition(":")
    # Written as to_global_id writes it, and no other way: int() would also read "٣" or
    # "3_0", giving one object many ids.
    if not (number.isascii() and number.isdigit()) or number != str(int(number)):
        raise invalid
    id = int(number)
    if type_name not in KNOWN_TYPES or not 0 < id <= MAX_ID:
        raise invalid
    return type_name, id


def decode_id(global_id: str, type_name: str) -> int:
    """The database id of a global id that must be of `type_name`."""
    actual, id = parse_global_id(global_id)
    if actual != type_name:
        raise bad_user_input(f"'{global_id}' is not the id of a {type_name}")
    return id
