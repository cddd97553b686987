"""One import in progress: the file, the report, and what earlier steps found."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.orm.attributes import flag_modified

from service.ghost.report import Report
from service.ghost.source import GhostExport


@dataclass
class ImportRun:
    export: GhostExport
    report: Report
    site_url: str
    # Ghost id → Broadsheet id of every user and tag that is in the database after its step.
    users: dict[str, int] = field(default_factory=dict)
    tags: dict[str, int] = field(default_factory=dict)
    owner_id: int | None = None
    progress: Callable[[int], None] = lambda advance: None


def ghost_id(value: object) -> str | None:
    """Ghost ids are 24 hex digits since 1.0, integers before; both are kept as text."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    # Longer than any Ghost id (the column holds 40): not one, so not matched by it.
    return str(value) if isinstance(value, str | int) and len(str(value)) <= 40 else None


def update_row(
    row: Any, values: dict[str, Any], fields: tuple[str, ...]
) -> Literal["update", "unchanged"]:
    """Set what differs ('update'), or touch nothing ('unchanged'). Timestamps the file
    lacks are kept; the file's updated_at is kept too, not the time of the import."""
    changed = [
        key
        for key in fields
        if getattr(row, key) != values[key] and not (key.endswith("ed_at") and not values[key])
    ]
    for key in changed:
        setattr(row, key, values[key])
    if changed and hasattr(row, "updated_at"):
        flag_modified(row, "updated_at")
    return "update" if changed else "unchanged"
