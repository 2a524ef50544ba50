"""Event subscriptions (the merchant's endpoints) and the deliveries owed to them.

A delivery row is written in the same transaction as the member event it carries (see
plugin/loyalty/events/subscriptions.py), so the deliveries table is the outbox: nothing
reads member events by "id greater than the last one seen", which PostgreSQL's sequences,
committing out of order, would make lose events. A delivery without an event is a sample
the merchant asked for from the panel.
"""
import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.db import Base, Id, UTCDateTime, utcnow
from plugin.models.enums import stored_by_value


class DeliveryStatus(enum.Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class EventSubscription(Base):
    __tablename__ = "event_subscriptions"
    __table_args__ = (Index("ix_event_subscriptions_shop", "shop_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    kinds: Mapped[list[str]] = mapped_column(JSON)
    # The signing secret, Fernet-encrypted like access tokens (plugin/shopify/tokens.py).
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventDelivery(Base):
    __tablename__ = "event_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", name="uq_event_deliveries_event"),
        Index("ix_event_deliveries_due", "status", "next_attempt_at"),
        Index("ix_event_deliveries_subscription", "subscription_id", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    subscription_id: Mapped[int] = mapped_column(ForeignKey("event_subscriptions.id", ondelete="CASCADE"))
    # NULL for a sample event sent from the panel.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("member_events.id", ondelete="CASCADE"))
    status: Mapped[DeliveryStatus] = mapped_column(stored_by_value(DeliveryStatus), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The receiver's last HTTP status (NULL: no answer: timeout, refused, unreachable).
    response_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryAttempt(Base):
    """One try of a delivery: when, the receiver's HTTP status (NULL: no answer), the error.

    `EventDelivery` keeps the last answer; these keep each one, the newest
    `ATTEMPTS_KEPT` per delivery (plugin/loyalty/events/delivery.py drops older ones)."""

    __tablename__ = "event_delivery_attempts"
    __table_args__ = (Index("ix_event_delivery_attempts_delivery", "delivery_id", "id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    delivery_id: Mapped[int] = mapped_column(ForeignKey("event_deliveries.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    response_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
