"""A counter every change to published content moves: response caches compare it."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base

CONTENT_VERSION_ROW_ID = 1
# Tables whose rows anonymous readers see (revisions and credentials are not among them).
CONTENT_TABLES = ("posts", "posts_authors", "posts_tags", "tags", "users", "settings")
# Where only some columns are content (as migration 0006's triggers): a staff member's public
# profile, not their password or last sign-in.
WATCHED_COLUMNS = {
    "users": ("name", "slug", "bio", "profile_image", "cover_image", "website", "location")
}


class ContentVersion(Base):
    """One row, moved by database triggers (migration 0006) in the transaction that changes
    content, so a reader that sees the new content also sees the new version."""

    __tablename__ = "content_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=CONTENT_VERSION_ROW_ID)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
