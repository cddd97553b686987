"""Staff users: the people who write and manage the site, with Ghost's roles."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow


class Role(enum.Enum):
    OWNER = "owner"
    ADMINISTRATOR = "administrator"
    EDITOR = "editor"
    AUTHOR = "author"
    CONTRIBUTOR = "contributor"


class UserStatus(enum.Enum):
    ACTIVE = "active"
    LOCKED = "locked"


def _values(enum_cls: type[enum.Enum]) -> list[str]:
    return [member.value for member in enum_cls]


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # Exactly one owner, even when two set-up requests race.
        Index(
            "uq_users_single_owner",
            "role",
            unique=True,
            sqlite_where=text("role = 'owner'"),
            postgresql_where=text("role = 'owner'"),
        ),
        # Ids are never reused (SQLite would reuse a deleted top id): no token outlives its row.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(191), unique=True)
    name: Mapped[str] = mapped_column(String(191))
    slug: Mapped[str] = mapped_column(String(191), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, values_callable=_values)
    )
    status: Mapped[UserStatus] = mapped_column(
        Enum(UserStatus, native_enum=False, length=20, values_callable=_values),
        default=UserStatus.ACTIVE,
    )
    bio: Mapped[str | None] = mapped_column(Text)
    profile_image: Mapped[str | None] = mapped_column(String(2000))
    cover_image: Mapped[str | None] = mapped_column(String(2000))
    website: Mapped[str | None] = mapped_column(String(2000))
    location: Mapped[str | None] = mapped_column(String(191))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped on a password or role change: access tokens carry it and die with the old value.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The id this row had in a Ghost export, so importing the same file again updates it.
    ghost_id: Mapped[str | None] = mapped_column(String(40), unique=True, index=True)
