"""Ghost ids: posts, tags and users remember the id they had in a Ghost export, so that
importing the same file again updates them instead of adding copies.

On SQLite every step is done in place, never by batch mode's table copy, which would drop
the triggers of migrations 0001 and 0006 (batch mode adds a column and an index in place).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 07:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("posts", "tags", "users")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("ghost_id", sa.String(length=40), nullable=True))
            batch.create_index(f"ix_{table}_ghost_id", ["ghost_id"], unique=True)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in TABLES:
        op.drop_index(f"ix_{table}_ghost_id", table_name=table)
        if sqlite:
            # SQLite 3.35+ drops a column in place; batch mode would copy the table and
            # lose its triggers (full-text search, content version).
            op.execute(f"ALTER TABLE {table} DROP COLUMN ghost_id")
        else:
            op.drop_column(table, "ghost_id")
