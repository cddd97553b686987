"""Events notify: on PostgreSQL, a statement that adds events also sends a NOTIFY (delivered
at commit), so the event runner, whichever worker or host it is on, wakes at once instead of
at its next poll. The mutation sends no extra statement: the trigger does it. SQLite has no
NOTIFY (and one host: the runner's own process is nudged directly).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 11:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As db.outbox.EVENTS_CHANNEL (migrations do not import application code).
CHANNEL = "broadsheet_events"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION notify_events() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER events_notify AFTER INSERT ON events "
        "FOR EACH STATEMENT EXECUTE FUNCTION notify_events()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER events_notify ON events")
    op.execute("DROP FUNCTION notify_events()")
