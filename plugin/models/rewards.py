"""The rewards catalog and redemptions: points traded for single-use discount codes."""
import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.db import Base, ExactDecimal, Id, UTCDateTime, utcnow
from plugin.models.enums import stored_by_value


class RewardKind(enum.Enum):
    AMOUNT_OFF = "amount_off"
    PERCENTAGE_OFF = "percentage_off"
    FREE_SHIPPING = "free_shipping"
    STORE_CREDIT = "store_credit"  # no code: the value is credited to the shopper's store credit account
    FREE_PRODUCT = "free_product"  # a code for one product at 100 % off


class RedemptionStatus(enum.Enum):
    PENDING = "pending"
    ISSUED = "issued"
    USED = "used"
    EXPIRED = "expired"
    FAILED = "failed"


class Reward(Base):
    __tablename__ = "rewards"
    __table_args__ = (
        CheckConstraint("points_cost > 0", name="points_cost_positive"),
        CheckConstraint("code_lifetime_days IS NULL OR code_lifetime_days > 0", name="lifetime_positive"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[RewardKind] = mapped_column(stored_by_value(RewardKind))
    # Money off for amount_off, money credited for store_credit, percent (10 = 10 %) for
    # percentage_off, 0 for free shipping and free products.
    value: Mapped[Decimal] = mapped_column(ExactDecimal)
    # The product a free_product reward gives (the platform's numeric id); NULL for other kinds.
    product_id: Mapped[int | None] = mapped_column(BigInteger)
    points_cost: Mapped[int] = mapped_column()
    min_subtotal: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    code_lifetime_days: Mapped[int | None] = mapped_column()
    # Which other discounts the code may be combined with at checkout.
    combines_with: Mapped[dict] = mapped_column(JSON, default=lambda: {
        "product_discounts": False, "order_discounts": False, "shipping_discounts": True})
    active: Mapped[bool] = mapped_column(default=True)
    # Deleted rewards stay for the redemptions that point at them, hidden from the catalog.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Redemption(Base):
    __tablename__ = "redemptions"
    __table_args__ = (
        UniqueConstraint("shop_id", "code"),
        # One platform credit pays for one redemption, however a lost answer was found again.
        UniqueConstraint("shop_id", "credit_transaction_id", name="uq_redemptions_credit_transaction"),
        CheckConstraint("points > 0", name="points_positive"),
        Index("ix_redemptions_member", "member_id", "id"),
        Index("ix_redemptions_due", "status", "next_attempt_at"),
        # Which orders used the shop's codes: the dashboard's loyalty revenue (plugin/loyalty/analytics/dashboard.py).
        Index("ix_redemptions_order", "shop_id", "order_id"),
        # The reward usage rate: codes issued in a period (plugin/loyalty/analytics/performance.py).
        Index("ix_redemptions_issued", "shop_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id", ondelete="CASCADE"))
    points: Mapped[int] = mapped_column()
    code: Mapped[str] = mapped_column(String(64))
    status: Mapped[RedemptionStatus] = mapped_column(stored_by_value(RedemptionStatus),
                                                     default=RedemptionStatus.PENDING)
    # The platform's DiscountCodeNode gid once the code exists there.
    discount_id: Mapped[str | None] = mapped_column(String(255))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    order_id: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Store credit (plugin/loyalty/rewards/store_credit.py): the intent, recorded with the spend
    # and before any call, so every retry credits exactly what was paid for. NULL for codes.
    credit_amount: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    credit_currency: Mapped[str | None] = mapped_column(String(3))
    credit_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a credit call was first sent: a transaction of the platform's from then on may be ours.
    credit_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The platform's StoreCreditAccountCreditTransaction id once the credit is known to exist.
    credit_transaction_id: Mapped[str | None] = mapped_column(String(255))
