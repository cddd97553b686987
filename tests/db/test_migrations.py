"""Alembic is the only way the schema is made: up, down to base, up again, and no drift."""

from __future__ import annotations

from pathlib import Path

from service import migrations
from tests.conftest import POSTGRES_URL


def test_upgrade_downgrade_and_no_drift(migrated_template: str, tmp_path: Path) -> None:
    # On PostgreSQL this runs on the (already migrated) test database and leaves it at head.
    url = migrated_template if POSTGRES_URL else f"sqlite+aiosqlite:///{tmp_path}/m.db"
    migrations.upgrade(url)
    assert migrations.current(url).startswith(str(migrations.head_revision()))
    migrations.check(url)  # raises when models and migrations disagree

    migrations.downgrade(url, "base")
    assert migrations.current(url) == ""

    migrations.upgrade(url)
    assert migrations.current(url).startswith(str(migrations.head_revision()))
