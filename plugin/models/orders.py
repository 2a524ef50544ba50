"""What the ledger remembers of orders and refunds, so webhooks can arrive in any order.

An `OrderRecord` exists as soon as any webhook names the order: a refund or a cancellation
that arrives first creates it with `earned_points` still NULL, and the award applies them
when `orders/paid` finally comes. A `RefundRecord` keeps the refunded amount, not points,
because points are computed at the rate the order earned at.
"""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.db import Base, ExactDecimal, Id, Points, UTCDateTime, utcnow


class OrderRecord(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("shop_id", "order_id"),
        CheckConstraint("earned_points >= 0", name="earned_points_not_negative"),
        Index("ix_orders_paid", "shop_id", "paid_at"),
        # Performance and cohorts read a period's paid orders by business day (migration 0022).
        Index("ix_orders_business_day", "shop_id", "tier_day",
              postgresql_include=["customer_id", "total_price", "earned_points", "paid_at", "cancelled_at"]),
        # Each customer's order days, read whole by the churn figures (plugin/loyalty/churn/recency.py);
        # with `cancelled_at` in it PostgreSQL answers from the index alone (bench/at_risk.py).
        Index("ix_orders_customer_day", "shop_id", "customer_id", "tier_day", "cancelled_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str | None] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(BigInteger)
    # NULL until orders/paid is processed; 0 when the order counts for nothing.
    earned_points: Mapped[int | None] = mapped_column(Points)
    rate: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # From orders/paid, for the dashboard: the order's total in shop money and when it was paid.
    total_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What each line earned at award time (plugin/loyalty/earning/engine.py LineFigure, as
    # JSON with decimals as strings): refunds are reversed from these, never from today's rules.
    lines: Mapped[list | None] = mapped_column(JSON)
    tier_multiplier: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    # The parsed order a simulator needs to replay it (business time, amounts, lines'
    # products); nothing that names the customer, and dropped by customers/redact.
    facts: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The business day the order counts toward tiers on, and the money (in millionths) it still
    # counts for after refunds (plugin/loyalty/tiers/totals.py).
    tier_day: Mapped[date | None] = mapped_column()
    tier_amount_micros: Mapped[int | None] = mapped_column(Points)
    # What the order's lines say its subtotal is (total_line_items_price - total_discounts),
    # kept only when it disagrees with `subtotal_price`, which is what the points follow
    # (SPEC "Points rules"); the merchant's list of such orders reads it.
    lines_subtotal: Mapped[Decimal | None] = mapped_column(ExactDecimal)


class RefundRecord(Base):
    __tablename__ = "refunds"
    __table_args__ = (UniqueConstraint("shop_id", "refund_id"), Index("ix_refunds_order", "shop_id", "order_id"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    refund_id: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[int] = mapped_column(BigInteger)
    refunded_subtotal: Mapped[Decimal] = mapped_column(ExactDecimal)
    # The refunded lines ({line_id, quantity, subtotal, gift_card}), reckoned against the order's lines.
    lines: Mapped[list | None] = mapped_column(JSON)
    # False while the refunded order has not earned yet; its points are taken at the award.
    applied: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
