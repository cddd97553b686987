"""The `broadsheet` command line: serve, migrate, seed, export the schema, register persisted
queries."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Coroutine
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click
import uvicorn
from rich.console import Console
from rich.progress import Progress

from db.engine import Database
from db.models import Role
from db.repositories import UserRepository
from db.repositories.throttles import ThrottleRepository
from db.repositories.users import StaffWriter
from service import migrations, staff
from service.doctor import diagnose
from service.errors import InvalidInput
from service.ghost import source
from service.ghost.exporter import export_ghost
from service.ghost.importer import import_ghost
from service.metrics import multiprocess_directory, shared_metrics_directory
from service.passwords import check_new_password
from service.persisted_queries import PersistedQueries, PersistedQuerySettings, sha256_hex
from service.seeding import DEMO, DatabaseNotEmpty, SeedPlan, SeedReport, seed
from service.settings import Settings
from service.throttling import account_key


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as error:
        raise click.ClickException(str(error)) from None


async def _seed(settings: Settings, plan: SeedPlan) -> SeedReport:
    db = Database.connect(settings.database_url)
    try:
        return await seed(db, plan)
    finally:
        await db.dispose()


def _print_report(report: SeedReport, settings: Settings) -> None:
    click.echo(
        f"Seeded {report.authors} authors, {report.tags} tags, {report.posts} published posts, "
        f"{report.drafts} drafts, {report.scheduled} scheduled post, {report.pages} pages."
    )
    click.echo(f"Staff login (owner): {report.owner_email} / {report.owner_password}")


@click.group()
def main() -> None:
    """Broadsheet: a headless CMS API (GraphQL for content, REST for login and health).

    \b
    Start here:
      broadsheet serve --demo     # a demo site on http://127.0.0.1:8000 (SQLite)
      broadsheet doctor           # is this installation healthy?
    Settings come from BROADSHEET_* variables (and a .env file); see the README.
    """


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
@click.option("--demo", is_flag=True, help="Fill an empty database with demo content first.")
def serve(host: str, port: int, workers: int, reload: bool, demo: bool) -> None:
    """Apply migrations, then serve the API.

    \b
    Examples:
      broadsheet serve --demo                # fill an empty database with a demo site
      broadsheet serve --host 0.0.0.0 --workers 4
      BROADSHEET_DATABASE_URL=postgresql+asyncpg://user@host/db broadsheet serve
    """
    settings = _settings()
    settings.resolved_secret_key()
    migrations.upgrade(settings.database_url)
    if demo:
        try:
            _print_report(asyncio.run(_seed(settings, DEMO)), settings)
        except DatabaseNotEmpty:
            click.echo("The database already has content: not adding demo content.")
    click.echo(f"GraphiQL: http://{host}:{port}/graphql")
    # Several workers share their metrics through files, so that /metrics counts them all;
    # a directory the operator named for that is emptied at every start.
    several = settings.metrics_enabled and workers > 1 and not reload
    metrics_files = (
        shared_metrics_directory() if several or multiprocess_directory() else nullcontext()
    )
    with metrics_files:
        uvicorn.run(
            "service.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=None if reload else workers,
            reload=reload,
            access_log=False,  # Broadsheet writes its own access line, with the request id
        )


@main.command()
def doctor() -> None:
    """Check the settings, secret key, database and migrations; say what to fix.

    \b
    Example:
      BROADSHEET_DATABASE_URL=postgresql+asyncpg://user@host/db broadsheet doctor
    Exits with status 1 when anything needs fixing.
    """
    try:
        settings = Settings()
    except ValueError as error:
        click.echo(f"✗ settings: {error}")
        click.echo("  Fix: set the BROADSHEET_* variables named above (see README, Settings).")
        raise SystemExit(1) from None
    findings = diagnose(settings)
    for finding in findings:
        click.echo(f"{'✓' if finding.ok else '✗'} {finding.check}: {finding.detail}")
        if finding.fix:
            click.echo(f"  Fix: {finding.fix}")
    if not all(finding.ok for finding in findings):
        raise SystemExit(1)


@main.group()
def db() -> None:
    """Database migrations."""


@db.command()
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Migrate up to REVISION (default: head).

    \b
    Example:
      broadsheet db upgrade
    """
    migrations.upgrade(_settings().database_url, revision)


@db.command()
@click.argument("revision", default="-1")
def downgrade(revision: str) -> None:
    """Migrate down to REVISION (default: one step; `base` empties the database)."""
    migrations.downgrade(_settings().database_url, revision)


@db.command()
def current() -> None:
    """Print the database's revision."""
    click.echo(migrations.current(_settings().database_url) or "(empty database)")


@db.command()
def check() -> None:
    """Fail if the models and the migrated database differ (alembic check)."""
    migrations.check(_settings().database_url)


@main.command("seed")
@click.option("--demo", "demo", is_flag=True, required=True, help="The demo site.")
def seed_command(demo: bool) -> None:
    """Fill an empty database with demo content (and print a staff login).

    \b
    Example:
      broadsheet seed --demo
    """
    settings = _settings()
    migrations.upgrade(settings.database_url)
    try:
        _print_report(asyncio.run(_seed(settings, DEMO)), settings)
    except DatabaseNotEmpty as error:
        raise click.ClickException(str(error)) from None


@main.group()
def users() -> None:
    """Staff accounts."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


async def _create_user(
    settings: Settings, *, email: str, name: str, role: Role, password: str
) -> None:
    db = Database.connect(settings.database_url)
    try:
        async with db.write_sessions.begin() as session:
            writer = StaffWriter(session)
            if role is Role.OWNER and await writer.owner() is not None:
                raise click.ClickException("There is an owner already.")
            await staff.create_user(writer, email=email, name=name, role=role, password=password)
    finally:
        await db.dispose()


async def _set_password(settings: Settings, *, email: str, password: str) -> None:
    db = Database.connect(settings.database_url)
    try:
        async with db.write_sessions.begin() as session:
            user = await UserRepository(session).by_email(email)
            if user is None:
                raise click.ClickException(f"No user has the email {email}.")
            check_new_password(password)
            await staff.set_password(StaffWriter(session), user, password)
            # A reset also lifts the sign-in block an attacker may have caused.
            await ThrottleRepository(session).clear(account_key(email))
    finally:
        await db.dispose()


def _run_checked(coroutine: Coroutine[Any, Any, None]) -> None:
    try:
        asyncio.run(coroutine)
    except InvalidInput as error:
        raise click.ClickException(str(error)) from None


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.AUTHOR.value,
    show_default=True,
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(email: str, name: str, role: str, password_stdin: bool) -> None:
    """Create a staff account (the password is prompted for).

    \b
    Examples:
      broadsheet users create --email ada@example.com --name "Ada" --role editor
      echo "$PASSWORD" | broadsheet users create --email bot@example.com --name Bot \\
          --role author --password-stdin
    """
    settings = _settings()
    migrations.upgrade(settings.database_url)
    password = _read_password(password_stdin)
    _run_checked(_create_user(settings, email=email, name=name, role=Role(role), password=password))
    click.echo(f"Created {role} {email}.")


@users.command("set-password")
@click.option("--email", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_set_password(email: str, password_stdin: bool) -> None:
    """Set a user's password; their sessions end and any sign-in block is lifted."""
    settings = _settings()
    password = _read_password(password_stdin)
    _run_checked(_set_password(settings, email=email, password=password))
    click.echo(f"Password changed for {email}.")


@main.group()
def schema() -> None:
    """The GraphQL schema."""


@schema.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
def export(file: Path | None) -> None:
    """Print the schema as SDL, or write it to FILE.

    \b
    Example:
      broadsheet schema export schema.graphql   # then generate a typed client from it
    """
    from graphql_schema.schema import schema as graphql_schema

    sdl = graphql_schema.as_str() + "\n"
    if file is None:
        sys.stdout.write(sdl)
    else:
        file.write_text(sdl)


@main.group("persisted-queries")
def persisted_queries() -> None:
    """Persisted GraphQL documents (APQ; the allow-list of BROADSHEET_PERSISTED_QUERIES_ONLY)."""


def _documents_in(paths: tuple[Path, ...]) -> list[str]:
    """The documents in files and directories: a .graphql/.gql file is one document (its text
    as a client sends it); a .json file is an Apollo persisted-query manifest, whose `body`s
    are exactly what Apollo Client sends and hashes."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(f for f in path.rglob("*") if f.suffix in {".graphql", ".gql", ".json"})
        else:
            files.append(path)
    documents: list[str] = []
    for file in files:
        text = file.read_text(encoding="utf-8")
        if file.suffix != ".json":
            documents.append(text)
            continue
        try:
            operations = json.loads(text)["operations"]
            bodies = [(operation.get("id"), operation["body"]) for operation in operations]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise click.ClickException(
                f"{file}: not a persisted-query manifest ({{'operations': [{{'body': …}}]}})"
            ) from None
        for declared, body in bodies:
            if declared is not None and declared != sha256_hex(body):
                raise click.ClickException(f"{file}: id {declared} is not the SHA-256 of its body")
            documents.append(body)
    return documents


async def _register(settings: Settings, documents: list[str]) -> list[str]:
    db = Database.connect(settings.database_url)
    try:
        store = PersistedQueries(db, PersistedQuerySettings())
        return await store.register(documents)
    finally:
        await db.dispose()


@persisted_queries.command("register")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def persisted_queries_register(paths: tuple[Path, ...]) -> None:
    """Register the documents in PATHS (files or directories) so they may run, also when only
    registered documents are allowed. Prints each document's SHA-256.

    \b
    Example:
      broadsheet persisted-queries register src/queries/ persisted-query-manifest.json
    """
    settings = _settings()
    documents = _documents_in(paths)
    if not documents:
        raise click.ClickException("No .graphql, .gql or .json files found.")
    for digest in asyncio.run(_register(settings, documents)):
        click.echo(digest)
    click.echo(f"Registered {len(documents)} documents.", err=True)


@main.group("import")
def import_group() -> None:
    """Bring a site in from another platform."""


async def _import_ghost(settings: Settings, file: Path, *, dry_run: bool, strict: bool) -> Any:
    export = source.read(file)
    db = Database.connect(settings.database_url, timeout=60.0)
    try:
        with Progress(console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("Importing posts and pages", total=len(export.rows("posts")))
            return await import_ghost(
                db,
                export,
                dry_run=dry_run,
                strict=strict,
                progress=lambda advance: progress.advance(task, advance),
            )
    finally:
        await db.dispose()


@import_group.command("ghost")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--dry-run", is_flag=True, help="Say what would change, record by record; write nothing."
)
@click.option(
    "--strict",
    is_flag=True,
    help="Stop at the first record that cannot be imported; write nothing.",
)
def import_ghost_command(file: Path, dry_run: bool, strict: bool) -> None:
    """Import a Ghost export (the .json, or the .zip with it): staff users and their roles,
    tags, posts and pages, and the site settings Broadsheet shares with Ghost. Importing the
    same file again changes nothing. Exits with status 1 when a record could not be imported.

    \b
    Examples:
      broadsheet import ghost my-site.ghost.2024-05-01.json --dry-run
      broadsheet import ghost my-site.zip --strict
    """
    settings = _settings()
    migrations.upgrade(settings.database_url)
    try:
        report = asyncio.run(_import_ghost(settings, file, dry_run=dry_run, strict=strict))
    except source.NotAGhostExport as error:
        raise click.ClickException(f"{file}: {error}") from None
    for entry in report.entries:
        if dry_run or entry.outcome == "error" or entry.notes:
            click.echo(entry.line())
    for notice in report.notices:
        click.echo(f"Note: {notice}")
    for line in report.summary():
        click.echo(line)
    if dry_run or (strict and report.errors):
        click.echo("Nothing was written.")
    if report.errors:
        failed = len(report.errors)
        click.echo(f"{failed} record{'s' * (failed != 1)} could not be imported.", err=True)
        raise SystemExit(1)


@main.group("export")
def export_group() -> None:
    """Write the site in another platform's format."""


async def _export_ghost(settings: Settings) -> dict[str, Any]:
    db = Database.connect(settings.database_url, timeout=60.0)
    try:
        return await export_ghost(db)
    finally:
        await db.dispose()


@export_group.command("ghost")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def export_ghost_command(file: Path) -> None:
    """Write the site as a Ghost export (JSON) to FILE: what `broadsheet import ghost` and
    Ghost's own importer read. No passwords or keys are written.

    \b
    Example:
      broadsheet export ghost site.ghost.json
    """
    document = asyncio.run(_export_ghost(_settings()))
    file.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    data = document["db"][0]["data"]
    click.echo(
        f"Wrote {len(data['posts'])} posts and pages, {len(data['tags'])} tags, "
        f"{len(data['users'])} users to {file}."
    )
