"""Importing a Ghost export: users, then tags, then posts and pages, then settings, in one
transaction, matching what an earlier import made so that a second run changes nothing."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import Database
from db.repositories.site_settings import SiteSettingsRepository
from service import events
from service.ghost.import_posts import import_posts
from service.ghost.import_settings import import_settings
from service.ghost.import_tags import import_tags
from service.ghost.import_users import import_users
from service.ghost.report import Report, StrictStop
from service.ghost.run import ImportRun
from service.ghost.source import GhostExport

CHANGES = ("create", "update")


class _Discard(Exception):
    """Leave the transaction without committing (a dry run, or --strict after an error)."""


async def _import(session: AsyncSession, run: ImportRun) -> None:
    await import_users(session, run)
    await import_tags(session, run)
    await import_posts(session, run)
    await import_settings(session, run)
    await session.flush()


def _notices(export: GhostExport) -> list[str]:
    notices = []
    if export.images:
        notices.append(
            f"{len(export.images)} images in the zip were not copied (Broadsheet has no media "
            "storage yet): image URLs are kept as they are in the file."
        )
    skipped = export.skipped_tables()
    if skipped:
        notices.append(f"not imported (no place for them in Broadsheet): {', '.join(skipped)}")
    return notices


async def import_ghost(
    db: Database,
    export: GhostExport,
    *,
    dry_run: bool = False,
    strict: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Import `export` in one transaction: committed unless this is a dry run, or --strict
    met a record it could not import (then nothing is written and the report says why)."""
    report = Report(strict=strict, notices=_notices(export))
    try:
        async with db.write_sessions.begin() as session:
            site = await SiteSettingsRepository(session).get()
            run = ImportRun(export=export, report=report, site_url=site.url)
            if progress is not None:
                run.progress = progress
            await _import(session, run)
            if dry_run:
                raise _Discard
            changed = sum(n for (_, outcome), n in report.counts().items() if outcome in CHANGES)
            if changed:
                events.site_changed(
                    session, cause="import.ghost", subject="import-ghost", changed=changed
                )
    except (_Discard, StrictStop):
        pass
    return report
