"""Referrals: a member's friend, the welcome code made for them, and what came of it.

One row per friend's email in a shop (`email_key` is the normalised email, unique per
shop: a friend is referred once). The row is written before the platform is asked for the
welcome code and deleted if no code could be made, so a row in `code_issued` always has a
code the friend can use. An order that uses the code decides the rest: `completed` (the
referrer was paid, `order_id` names the friend's order) or `rejected` with its `reason`.
"""
import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.db import Base, ExactDecimal, Id, Points, UTCDateTime, utcnow
from plugin.models.enums import stored_by_value


class ReferralStatus(enum.Enum):
    # The code is being made (the platform call is in flight); never shown in the API.
    CREATING = "creating"
    CODE_ISSUED = "code_issued"
    COMPLETED = "completed"
    REJECTED = "rejected"


class Referral(Base):
    __tablename__ = "referrals"
    __table_args__ = (
        UniqueConstraint("shop_id", "email_key", name="uq_referrals_email_key"),
        UniqueConstraint("shop_id", "code", name="uq_referrals_code"),
        # The daily limit counts a referrer's codes of one day.
        Index("ix_referrals_referrer", "referrer_id", "created_at"),
        Index("ix_referrals_order", "shop_id", "order_id"),
        Index("ix_referrals_shop", "shop_id", "id"),
        # A friend's later-arriving earlier order looks up their completed referral.
        Index("ix_referrals_friend", "shop_id", "friend_customer_id"),
        # The shop's daily limits: codes made today in the shop, and from one shopper's address.
        Index("ix_referrals_shop_day", "shop_id", "created_at"),
        Index("ix_referrals_client", "shop_id", "client_address", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    referrer_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    friend_email: Mapped[str] = mapped_column(String(320))
    email_key: Mapped[str] = mapped_column(String(320))
    code: Mapped[str] = mapped_column(String(64))
    reward_id: Mapped[int] = mapped_column(Id)
    discount_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[ReferralStatus] = mapped_column(stored_by_value(ReferralStatus))
    reason: Mapped[str | None] = mapped_column(String(500))
    order_id: Mapped[int | None] = mapped_column(BigInteger)
    friend_customer_id: Mapped[int | None] = mapped_column(BigInteger)
    # The referrer's points for this referral (0 until completed) and the friend's order total.
    points: Mapped[int] = mapped_column(Points, default=0)
    order_total: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The friend's order was cancelled and the referrer's points taken back.
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The shopper's address the code was asked from, where the app proxy said it (X-Forwarded-For):
    # the per-address limit and the Referrals page's patterns read it; customers/redact blanks it.
    client_address: Mapped[str | None] = mapped_column(String(45))
    # When the platform was told to deactivate the code of a rejected or reversed referral.
    code_withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The friend's order's shopper marks (digests: device, shipping address, card), kept when it
    # completes or is rejected: friends of one link sharing one are a pattern the panel shows.
    friend_marks: Mapped[list | None] = mapped_column(JSON)
