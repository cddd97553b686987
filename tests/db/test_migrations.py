"""Alembic is the only way the schema is made: up, down to base, up again, and no drift."""

from __future__ import annotations

import os
from pathlib import Path

from service import migrations


def test_upgrade_downgrade_and_no_drift(tmp_path: Path) -> None:
    url = os.environ.get("BROADSHEET_TEST_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp_path}/m.db"
    migrations.upgrade(url)
    assert migrations.current(url).startswith(str(migrations.head_revision()))
    migrations.check(url)  # raises when models and migrations disagree

    migrations.downgrade(url, "base")
    assert migrations.current(url) == ""

    migrations.upgrade(url)
    assert migrations.current(url).startswith(str(migrations.head_revision()))
