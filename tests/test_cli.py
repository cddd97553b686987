"""The command line: demo seeding, schema export, migrations."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from db import models
from db.engine import Database
from service.cli import main


async def _counts(url: str) -> dict[str, int]:
    db = Database.connect(url)
    try:
        async with db.read_sessions() as session:

            async def count(*where: object, model: type = models.Post) -> int:
                stmt = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
                return int(await session.scalar(stmt) or 0)

            Post = models.Post
            return {
                "authors": await count(model=models.User),
                "tags": await count(model=models.Tag),
                "internal_tags": await count(
                    models.Tag.visibility == models.TagVisibility.INTERNAL, model=models.Tag
                ),
                "published": await count(
                    Post.type == models.PostType.POST, Post.status == models.PostStatus.PUBLISHED
                ),
                "featured": await count(Post.featured.is_(True)),
                "drafts": await count(Post.status == models.PostStatus.DRAFT),
                "scheduled": await count(Post.status == models.PostStatus.SCHEDULED),
                "pages": await count(Post.type == models.PostType.PAGE),
                "tag_links": await count(model=models.PostTag),
            }
    finally:
        await db.dispose()


def test_seed_demo_fills_an_empty_database_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/demo.db"
    monkeypatch.setenv("BROADSHEET_DATABASE_URL", url)
    runner = CliRunner()

    result = runner.invoke(main, ["seed", "--demo"])

    assert result.exit_code == 0, result.output
    assert "Staff login (owner): ada-lovelace@example.com / " in result.output
    counts = asyncio.run(_counts(url))
    assert counts["authors"] >= 3
    assert counts["tags"] >= 10
    assert counts["internal_tags"] == 1
    assert counts["published"] >= 50
    assert counts["featured"] > 0
    assert counts["drafts"] >= 2
    assert counts["scheduled"] == 1
    assert counts["pages"] >= 3
    assert counts["tag_links"] >= 3 * counts["published"]

    again = runner.invoke(main, ["seed", "--demo"])
    assert again.exit_code == 1
    assert "already has content" in again.output
    assert asyncio.run(_counts(url)) == counts


def test_schema_export_writes_sdl(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"
    result = CliRunner().invoke(main, ["schema", "export", str(target)])
    assert result.exit_code == 0
    assert "type Query {" in target.read_text()


def test_db_commands_migrate_and_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROADSHEET_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/cli.db")
    runner = CliRunner()
    assert runner.invoke(main, ["db", "current"]).output.strip() == "(empty database)"
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert "(head)" in runner.invoke(main, ["db", "current"]).output
    assert runner.invoke(main, ["db", "downgrade", "base"]).exit_code == 0
    assert runner.invoke(main, ["db", "current"]).output.strip() == "(empty database)"


def test_users_create_and_set_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/users.db"
    monkeypatch.setenv("BROADSHEET_DATABASE_URL", url)
    runner = CliRunner()

    weak = runner.invoke(
        main,
        ["users", "create", "--email", "a@example.com", "--name", "A", "--password-stdin"],
        input="short\n",
    )
    assert weak.exit_code == 1
    assert "at least 10 characters" in weak.output
    created = runner.invoke(
        main,
        [
            "users",
            "create",
            "--email",
            "a@example.com",
            "--name",
            "A",
            "--role",
            "editor",
            "--password-stdin",
        ],
        input="a long enough passphrase\n",
    )
    assert created.exit_code == 0, created.output

    async def lock_and_read() -> tuple[str | None, str | None]:
        db = Database.connect(url)
        try:
            async with db.write_sessions.begin() as session:
                session.add(models.LoginThrottle(key="account:a@example.com", failures=100))
            async with db.read_sessions() as session:
                user = (await session.execute(select(models.User))).scalar_one()
                return user.password_hash, user.role.value
        finally:
            await db.dispose()

    before, role = asyncio.run(lock_and_read())
    assert role == "editor"
    reset = runner.invoke(
        main,
        ["users", "set-password", "--email", "a@example.com", "--password-stdin"],
        input="another long passphrase\n",
    )
    assert reset.exit_code == 0, reset.output

    async def after() -> tuple[str | None, int]:
        db = Database.connect(url)
        try:
            async with db.read_sessions() as session:
                user = (await session.execute(select(models.User))).scalar_one()
                throttles = await session.scalar(
                    select(func.count()).select_from(models.LoginThrottle)
                )
                return user.password_hash, int(throttles or 0)
        finally:
            await db.dispose()

    new_hash, throttles = asyncio.run(after())
    assert new_hash != before
    assert throttles == 0


def test_doctor_says_what_to_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BROADSHEET_SECRET_KEY", raising=False)
    file = tmp_path / "site.db"
    monkeypatch.setenv("BROADSHEET_DATABASE_URL", f"sqlite+aiosqlite:///{file}")
    runner = CliRunner()

    missing = runner.invoke(main, ["doctor"])
    assert missing.exit_code == 1
    assert f"✗ database: {file} does not exist yet" in missing.output
    assert not file.exists()  # the doctor changes nothing

    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    healthy = runner.invoke(main, ["doctor"])
    assert healthy.exit_code == 0, healthy.output
    assert "✓ migrations: at the newest revision" in healthy.output
    assert "✓ secret key: not set: development's own key" in healthy.output

    assert runner.invoke(main, ["db", "downgrade", "0005"]).exit_code == 0
    behind = runner.invoke(main, ["doctor"])
    assert behind.exit_code == 1
    assert "Fix: Run `broadsheet db upgrade`" in behind.output

    monkeypatch.setenv("BROADSHEET_DATABASE_URL", "postgresql+asyncpg://nobody@127.0.0.1:9/none")
    unreachable = runner.invoke(main, ["doctor"])
    assert unreachable.exit_code == 1
    assert "✗ database: cannot connect" in unreachable.output

    monkeypatch.setenv("BROADSHEET_ENV", "production")
    unsafe = runner.invoke(main, ["doctor"])
    assert unsafe.exit_code == 1
    assert "✗ settings:" in unsafe.output
    assert "BROADSHEET_SECRET_KEY must be set" in unsafe.output


def test_every_command_explains_itself_with_an_example() -> None:
    runner = CliRunner()
    for command in (
        [],
        ["serve"],
        ["doctor"],
        ["db", "upgrade"],
        ["seed"],
        ["users", "create"],
        ["schema", "export"],
        ["persisted-queries", "register"],
        ["import", "ghost"],
        ["export", "ghost"],
    ):
        shown = runner.invoke(main, [*command, "--help"])
        assert shown.exit_code == 0
        assert "broadsheet " in shown.output.split("Options:")[0], command
