"""A counter every change to published content moves: response caches compare it."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base

CONTENT_VERSION_ROW_ID = 1
# Tables whose rows anonymous readers see (revisions and credentials are not among them).
CONTENT_TABLES = ("posts", "posts_authors", "posts_tags", "tags", "users", "settings")


class ContentVersion(Base):
    """One row, moved by database triggers (migration 0006) in the transaction that changes
    content, so a reader that sees the new content also sees the new version."""

    __tablename__ = "content_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=CONTENT_VERSION_ROW_ID)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
