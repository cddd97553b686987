"""Alembic environment: async engines, batch mode on SQLite, search objects kept out of drift."""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from db import models
from db.base import UTCDateTime

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)

# Full-text search objects are made by hand in the migrations (FTS5 on SQLite, a generated
# tsvector on PostgreSQL), and so is PostgreSQL's listing index (its NULLS LAST ordering is
# beyond what autogenerate compares); the models do not describe them, so autogenerate must
# not either.
HAND_MADE_SEARCH_OBJECTS = {"search_vector", "ix_posts_search_vector", "ix_posts_listing"}


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if name is None:
        return True
    if type_ == "table" and name.startswith("posts_fts"):
        return False
    return name not in HAND_MADE_SEARCH_OBJECTS


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    # Migrations must not import application types: UTCDateTime is stored as its impl.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def database_url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("BROADSHEET_DATABASE_URL")
    if not url:
        raise RuntimeError("set BROADSHEET_DATABASE_URL (or use `broadsheet db …`)")
    return url


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=models.Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_async_engine(database_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=database_url(), target_metadata=models.Base.metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(run_async_migrations())
