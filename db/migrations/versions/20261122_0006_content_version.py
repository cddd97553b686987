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
BUMP = (
    "INSERT INTO content_version (id, version) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET version = content_version.version + 1"
)


def upgrade() -> None:
    op.create_table(
        "content_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_version")),
    )
    op.execute("INSERT INTO content_version (id, version) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION bump_content_version() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {BUMP}; RETURN NULL; END $$"
        )
        for table in CONTENT_TABLES:
            op.execute(
                f"CREATE CONSTRAINT TRIGGER {table}_content_version "
                f"AFTER INSERT OR UPDATE OR DELETE ON {table} "
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
            op.execute(
                f"CREATE TRIGGER {table}_content_version_{event.lower()} "
                f"AFTER {event} ON {table} BEGIN {BUMP}; END"
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
