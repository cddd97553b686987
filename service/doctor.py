"""`broadsheet doctor`: what is wrong with this installation, and what to do about it.

Each check reads what `broadsheet serve` would use (the settings, the secret key, the
database and its migrations) without changing anything."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from service import migrations
from service.settings import Settings


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str
    fix: str = ""  # what to do, when not ok


def diagnose(settings: Settings) -> list[Finding]:
    """Every check, in the order a reader would fix them."""
    findings = [_settings(settings), _secret_key(settings)]
    database = asyncio.run(_database(settings))
    findings.append(database)
    if database.ok:
        findings.append(_migrations(settings))
    return findings


def _settings(settings: Settings) -> Finding:
    where = settings.sqlite_path()
    database = f"SQLite at {where}" if where else settings.database_url.split("@")[-1]
    detail = f"{settings.env.value}, database {database}"
    exposed = [n for n in ("graphiql", "introspection") if getattr(settings, f"{n}_enabled")]
    if settings.is_production and exposed:
        return Finding(
            "settings",
            False,
            f"{detail}; {' and '.join(exposed)} on in production",
            "Unset BROADSHEET_GRAPHIQL and BROADSHEET_INTROSPECTION unless strangers may "
            "read the schema.",
        )
    return Finding("settings", True, detail)


def _secret_key(settings: Settings) -> Finding:
    if settings.secret_key:
        return Finding("secret key", True, f"set ({len(settings.secret_key.encode())} bytes)")
    # (Production refuses to start without one: the settings fail to load, said above.)
    place = settings.secret_key_file()
    state = "kept in" if place.exists() else "to be generated in"
    return Finding("secret key", True, f"not set: development's own key, {state} {place}")


async def _database(settings: Settings) -> Finding:
    file = settings.sqlite_path()
    if file is not None and not file.exists():
        # Connecting would create it; the doctor changes nothing.
        return Finding("database", False, f"{file} does not exist yet", "Run `broadsheet serve`.")
    engine = create_async_engine(settings.database_url)
    try:
        async with asyncio.timeout(settings.database_timeout_seconds):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception as error:
        reason = str(error).splitlines()[0][:200] or type(error).__name__
        return Finding(
            "database",
            False,
            f"cannot connect: {reason}",
            "Check BROADSHEET_DATABASE_URL, and that the database server runs and accepts "
            "this user.",
        )
    finally:
        await engine.dispose()
    return Finding("database", True, "connects")


def _migrations(settings: Settings) -> Finding:
    head = migrations.head_revision()
    current = migrations.current(settings.database_url).split(" ")[0] or None
    if current == head:
        return Finding("migrations", True, f"at the newest revision ({head})")
    state = "empty" if current is None else f"at {current}"
    return Finding(
        "migrations",
        False,
        f"the database is {state}; the code needs {head}",
        "Run `broadsheet db upgrade` (`broadsheet serve` does it before serving).",
    )
