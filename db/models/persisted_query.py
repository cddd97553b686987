"""GraphQL documents stored by their SHA-256, for persisted queries (Apollo's APQ)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow


class PersistedQuery(Base):
    """One document, keyed by the hex SHA-256 of its text. A hash's document never changes,
    so rows are only ever inserted (and deleted by an operator)."""

    __tablename__ = "persisted_queries"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    # Registered by an operator (the CLI), not by a client's retry: only these run when the
    # server accepts registered documents only.
    registered: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
