"""Content version: one counter that every change to readable content moves, for caches.

Triggers are hand-written per dialect (autogenerate does not see them). On PostgreSQL they
are constraint triggers deferred to commit, so the counter row is locked last, after every
content row a transaction touches (no lock-order deadlock between two writers), and moves
atomically with the content. SQLite serialises writers, so plain row triggers do.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 05:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As db.models.content_version.CONTENT_TABLES (migrations do not import application code).
CONTENT_TABLES = ("posts", "posts_authors", "posts_tags", "tags", "users", "settings")
# Of a staff account, only its public profile is content (a login's last_seen_at is not).
WATCHED_COLUMNS = {
    "users": ("name", "slug", "bio", "profile_image", "cover_image", "website", "location")
}
BUMP = (
    "INSERT INTO content_version (id, version) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET version = content_version.version + 1"
)
# Once per transaction: the first changed row moves the version at commit, the rest see the
# transaction-local flag (a bulk write of 10,000 rows moves it once, not 10,000 times).
PG_FUNCTION = f"""
CREATE FUNCTION bump_content_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('broadsheet.content_version_moved', true) = 'yes' THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('broadsheet.content_version_moved', 'yes', true);
    {BUMP};
    RETURN NULL;
END $$
"""


def _update_event(table: str) -> str:
    columns = WATCHED_COLUMNS.get(table)
    return f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"


def upgrade() -> None:
    op.create_table(
        "content_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_version")),
    )
    op.execute("INSERT INTO content_version (id, version) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for table in CONTENT_TABLES:
            op.execute(
                f"CREATE CONSTRAINT TRIGGER {table}_content_version "
                f"AFTER INSERT OR {_update_event(table)} OR DELETE ON {table} "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                "EXECUTE FUNCTION bump_content_version()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_content_version_truncate AFTER TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION bump_content_version()"
            )
        return
    for table in CONTENT_TABLES:
        for event in ("INSERT", "UPDATE", "DELETE"):
            clause = _update_event(table) if event == "UPDATE" else event
            op.execute(
                f"CREATE TRIGGER {table}_content_version_{event.lower()} "
                f"AFTER {clause} ON {table} BEGIN {BUMP}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in CONTENT_TABLES:
            op.execute(f"DROP TRIGGER {table}_content_version_truncate ON {table}")
            op.execute(f"DROP TRIGGER {table}_content_version ON {table}")
        op.execute("DROP FUNCTION bump_content_version()")
    else:
        for table in CONTENT_TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_content_version_{event}")
    op.drop_table("content_version")
