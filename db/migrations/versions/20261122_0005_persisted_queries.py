"""Persisted queries: GraphQL documents stored by their SHA-256 (Apollo's APQ, allow-lists).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 04:50:44.897073
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "persisted_queries",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("registered", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_persisted_queries")),
    )


def downgrade() -> None:
    op.drop_table("persisted_queries")
