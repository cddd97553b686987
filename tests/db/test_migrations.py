"""Alembic is the only way the schema is made: up, down to base, up again, and no drift."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from db.base import utcnow
from service import migrations, rendering
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


async def test_stored_excerpts_are_filled_in_for_existing_posts(
    migrated_template: str, tmp_path: Path
) -> None:
    """Migration 0012 gives the posts written before it the excerpt the app would give."""
    url = migrated_template if POSTGRES_URL else f"sqlite+aiosqlite:///{tmp_path}/m.db"
    # At 0011 whatever it was at (PostgreSQL's test database is at head already).
    await asyncio.to_thread(migrations.upgrade, url, "0011")
    await asyncio.to_thread(migrations.downgrade, url, "0011")
    bodies = {
        "custom": ("By hand.", "Body."),
        "long": (None, "word\u3000 " * 100),
        "short": (None, "  Short\n\tbody. "),
        "empty": (None, ""),
    }
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            for slug, (custom, plaintext) in bodies.items():
                await connection.execute(
                    text(
                        "INSERT INTO posts (type, status, title, slug, plaintext, custom_excerpt,"
                        " reading_time, featured, created_at, updated_at) VALUES ('post',"
                        " 'draft', :slug, :slug, :plaintext, :custom, 0, false, :now, :now)"
                    ),
                    {"slug": slug, "plaintext": plaintext, "custom": custom, "now": utcnow()},
                )
        await asyncio.to_thread(migrations.upgrade, url)
        async with engine.begin() as connection:
            rows = (await connection.execute(text("SELECT slug, excerpt FROM posts"))).all()
            await connection.execute(text("DELETE FROM posts"))
    finally:
        await engine.dispose()
    stored: dict[str, str | None] = {slug: excerpt for slug, excerpt in rows}
    assert stored == {
        slug: rendering.excerpt(custom_excerpt=custom, plaintext=plaintext)
        for slug, (custom, plaintext) in bodies.items()
    }
    assert (stored["long"] or "").endswith("…")
