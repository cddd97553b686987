"""Posts keep their excerpt: worked out when a post is written (service.rendering.excerpt)
instead of on every read, by each read path in its own language. Existing posts get theirs
here, by the rule as it stands today (frozen below: migrations never import the app).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 17:00:00.000000
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
EXCERPT_LENGTH = 300
_WHITESPACE = re.compile(r"\s+")

posts = sa.table(
    "posts",
    sa.column("id", sa.Integer),
    sa.column("custom_excerpt", sa.String),
    sa.column("plaintext", sa.Text),
    sa.column("excerpt", sa.Text),
)


def _excerpt(custom_excerpt: str | None, plaintext: str | None) -> str | None:
    """service.rendering.excerpt as of this revision."""
    if custom_excerpt:
        return custom_excerpt
    if not plaintext:
        return None
    flat = _WHITESPACE.sub(" ", plaintext).strip()
    if len(flat) <= EXCERPT_LENGTH:
        return flat
    cut = flat[:EXCERPT_LENGTH].rsplit(" ", 1)[0]
    return cut.rstrip(",;:.") + "…"


def upgrade() -> None:
    op.add_column("posts", sa.Column("excerpt", sa.Text(), nullable=True))
    bind = op.get_bind()
    update = (
        posts.update()
        .where(posts.c.id == sa.bindparam("row_id"))
        .values(excerpt=sa.bindparam("value"))
    )
    last = 0
    while True:  # in batches: bodies can be long, and there may be many
        rows = bind.execute(
            sa.select(posts.c.id, posts.c.custom_excerpt, posts.c.plaintext)
            .where(posts.c.id > last)
            .order_by(posts.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        bind.execute(
            update, [{"row_id": id, "value": _excerpt(custom, text)} for id, custom, text in rows]
        )
        last = rows[-1][0]


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # In place (SQLite 3.35+): batch mode would copy the table and lose its triggers.
        op.execute("ALTER TABLE posts DROP COLUMN excerpt")
    else:
        op.drop_column("posts", "excerpt")
