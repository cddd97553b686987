"""Content notify: on PostgreSQL, a transaction that moves the content version also sends a
NOTIFY (delivered at commit), so every worker on every host drops its cached generation at
once and a cache hit needs no statement to check it. SQLite has no NOTIFY and no response
cache.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 12:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As graphql_schema.compiled.generation.CHANNEL (migrations do not import application code).
CHANNEL = "broadsheet_content"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The same empty payload each time: PostgreSQL folds them into one NOTIFY per transaction.
    op.execute(
        "CREATE FUNCTION notify_content() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER content_version_notify AFTER INSERT OR UPDATE ON content_version "
        "FOR EACH ROW EXECUTE FUNCTION notify_content()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER content_version_notify ON content_version")
    op.execute("DROP FUNCTION notify_content()")
