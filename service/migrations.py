"""Alembic driven from code: upgrade, downgrade, current revision, drift check, head revision."""

from __future__ import annotations

import io
from functools import cache
from typing import TextIO

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory


def alembic_config(database_url: str, *, stdout: TextIO | None = None) -> Config:
    """An Alembic config for `database_url`, using the migrations shipped in the `db` package."""
    config = Config(stdout=stdout) if stdout is not None else Config()
    config.set_main_option("script_location", "db:migrations")
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def current(database_url: str) -> str:
    buffer = io.StringIO()
    command.current(alembic_config(database_url, stdout=buffer))
    return buffer.getvalue().strip()


def check(database_url: str) -> None:
    """Raise if the models and the migrated database disagree (autogenerate finds drift)."""
    command.check(alembic_config(database_url))


@cache
def head_revision() -> str | None:
    """The newest revision the code ships: what `upgrade head` reaches."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
