"""Reading a Ghost export: a .json file, or a .zip holding one JSON file (and images)."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Tables Broadsheet reads; everything else in an export is left alone, secrets above all.
READ_TABLES = (
    "posts",
    "posts_meta",
    "tags",
    "posts_tags",
    "users",
    "roles",
    "roles_users",
    "posts_authors",
    "settings",
)
# Named in the summary so nobody wonders where they went: Broadsheet has no place for them,
# and several hold secrets (API keys, sessions, Stripe and mail credentials).
NOT_IMPORTED = (
    "members",
    "api_keys",
    "integrations",
    "webhooks",
    "sessions",
    "tokens",
    "newsletters",
    "stripe_products",
    "stripe_prices",
    "offers",
    "emails",
    "snippets",
    "labels",
    "products",
)


class NotAGhostExport(ValueError):
    """The file is not something Ghost exports."""


@dataclass
class GhostExport:
    """The tables of one export, and where they sit in the file (for error paths)."""

    data: dict[str, list[dict[str, Any]]]
    path: str  # 'db[0].data' or 'data'
    version: str | None = None
    exported_on: Any = None
    images: list[str] = field(default_factory=list)  # image files in a zip, not copied

    def rows(self, table: str) -> list[dict[str, Any]]:
        rows = self.data.get(table) or []
        return rows if isinstance(rows, list) else []

    def where(self, table: str, index: int) -> str:
        return f"{self.path}.{table}[{index}]"

    def skipped_tables(self) -> list[str]:
        return [name for name in NOT_IMPORTED if self.data.get(name)]


def parse(document: Any) -> GhostExport:
    """Find `meta` and `data` in a parsed export, with or without the `{"db": [...]}` wrapper."""
    path = "data"
    if isinstance(document, dict) and isinstance(document.get("db"), list) and document["db"]:
        document, path = document["db"][0], "db[0].data"
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        raise NotAGhostExport("no Ghost data: expected {'db': [{'meta', 'data'}]} or {'data'}")
    meta = document.get("meta") or {}
    return GhostExport(
        data=document["data"],
        path=path,
        version=str(meta["version"]) if meta.get("version") else None,
        exported_on=meta.get("exported_on"),
    )


def read(file: Path) -> GhostExport:
    """Load `file`: a Ghost JSON export, or a zip with one at any depth."""
    if not zipfile.is_zipfile(file):
        try:
            return parse(json.loads(file.read_bytes()))
        except json.JSONDecodeError as error:
            raise NotAGhostExport(f"not JSON: {error}") from None
    with zipfile.ZipFile(file) as archive:
        names = [n for n in archive.namelist() if not n.startswith("__MACOSX/")]
        documents = [n for n in names if n.lower().endswith(".json")]
        if len(documents) != 1:
            raise NotAGhostExport(f"the zip holds {len(documents)} JSON files; expected one")
        try:
            export = parse(json.loads(archive.read(documents[0])))
        except json.JSONDecodeError as error:
            raise NotAGhostExport(f"{documents[0]}: not JSON: {error}") from None
        export.images = [n for n in names if "/images/" in f"/{n}" and not n.endswith("/")]
        return export
