"""Commits in this process that changed content: whoever keeps something derived from it (the
response cache's generation) hears of them right after the commit, before the response that
follows is sent. Other processes hear through the database (migration 0010's NOTIFY); this
is what lets a writer read its own write at once.

Content is what moves the content version: the tables of CONTENT_TABLES (of users, the
WATCHED_COLUMNS only), changed through the ORM (objects flushed, or insert/update/delete
statements run on a session)."""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session

from db.models.content_version import CONTENT_TABLES, WATCHED_COLUMNS

_CHANGED = "broadsheet.content_changed"
_on_commit: list[Callable[[], None]] = []


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    added_or_deleted = chain(session.new, session.deleted)
    if any(_is_content(row) for row in added_or_deleted) or any(
        _is_content(row, changed_only=True) for row in session.dirty
    ):
        session.info[_CHANGED] = True


def _is_content(row: object, *, changed_only: bool = False) -> bool:
    table = getattr(row, "__tablename__", None)
    if table not in CONTENT_TABLES:
        return False
    columns = WATCHED_COLUMNS.get(table)
    if columns is None or not changed_only:
        return True
    # Still the flush's history here: which of its columns this flush changed.
    state = inspect(row)
    return any(state.attrs[column].history.has_changes() for column in columns)


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in CONTENT_TABLES:
            state.session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        for callback in list(_on_commit):
            callback()


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_CHANGED, None)


def on_content_commit(callback: Callable[[], None]) -> None:
    """Call `callback` after each commit in this process that changed content."""
    _on_commit.append(callback)


def off_content_commit(callback: Callable[[], None]) -> None:
    if callback in _on_commit:
        _on_commit.remove(callback)
