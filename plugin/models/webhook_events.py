"""Every accepted webhook delivery, stored before it is answered.

The row is the unit of work: intake writes it `pending`, a job moves it to `processed`
or, after its last try, `failed` with the error. Its payload is kept as the raw text that
was signed, so a malformed body is recorded as it came and can be replayed byte for byte.
"""
import enum
from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.db import Base, Id, UTCDateTime, utcnow
from plugin.models.enums import stored_by_value


class EventStatus(enum.Enum):
    PENDING = "pending"
    PROCESSED = "processed"
    FAILED = "failed"


class WebhookEvent(Base):
    __tablename__ = "webhook_events"
    __table_args__ = (
        UniqueConstraint("shop_domain", "webhook_id"),
        Index("ix_webhook_events_due", "status", "next_attempt_at"),
        Index("ix_webhook_events_retention", "payload_blanked_at", "status", "processed_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_domain: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(64))
    webhook_id: Mapped[str] = mapped_column(String(255))
    event_id: Mapped[str | None] = mapped_column(String(255))
    api_version: Mapped[str | None] = mapped_column(String(16))
    triggered_at: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[EventStatus] = mapped_column(stored_by_value(EventStatus), default=EventStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the retention upkeep blanked the payload (plugin/loyalty/privacy.py); NULL while kept.
    payload_blanked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
