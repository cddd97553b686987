"""The outbox: content events, written in the transaction of the change that causes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow


class Event(Base):
    """One content event. `data` is what the change knew; `body` is the finished JSON payload,
    completed once by the dispatcher (the site URL, the post's tags and authors) so every
    delivery and every retry of it sends the same bytes."""

    __tablename__ = "events"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The public id: Standard Webhooks' `webhook-id`, the receiver's idempotency key.
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    # What the event is about ("post:12", "settings", "site"): deliveries keep its order.
    subject: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Null until the dispatcher has made its deliveries; indexed for that search.
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
