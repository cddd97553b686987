"""An index in the default listing order (newest first, drafts last) on PostgreSQL.

PostgreSQL sorts NULLs first in descending order, so the (type, published_at) index cannot
serve `published_at DESC NULLS LAST, id DESC`: without this index every homepage request
sorted every post. SQLite puts NULLs last in descending order and uses the existing index.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 03:35:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_posts_listing ON posts (type, published_at DESC NULLS LAST, id DESC)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_posts_listing")
