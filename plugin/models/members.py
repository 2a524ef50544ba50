"""A member: one store customer's loyalty account, keyed by the platform's customer id.

`balance` and `lifetime_earned` are kept in step with the ledger inside the transaction
that writes each entry (see plugin/loyalty/ledger/); `verify-ledger` proves they still agree.
"""
import secrets
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.db import Base, Id, Points, UTCDateTime, utcnow

# No 0/O or 1/I/L to misread when a friend types a code; 32 symbols, 5 bits each.
REFERRAL_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERRAL_CODE_LENGTH = 10


def new_referral_code() -> str:
    """A member's referral code: 10 symbols of 31 (49 random bits), too many to walk through.

    One draw, written in base 31: every member row of an order batch's upsert makes one
    (it is a column default), so ten `secrets.choice` calls a row showed in the profile."""
    number, symbols = secrets.randbelow(len(REFERRAL_ALPHABET) ** REFERRAL_CODE_LENGTH), []
    for _ in range(REFERRAL_CODE_LENGTH):
        number, digit = divmod(number, len(REFERRAL_ALPHABET))
        symbols.append(REFERRAL_ALPHABET[digit])
    return "".join(symbols)


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("shop_id", "customer_id"),
        CheckConstraint("lifetime_earned >= 0", name="lifetime_earned_not_negative"),
        CheckConstraint("pending >= 0", name="pending_not_negative"),
        # The dashboard counts members by the day they joined (plugin/loyalty/analytics/dashboard.py).
        Index("ix_members_created", "shop_id", "created_at"),
        Index("ix_members_referral_code", "shop_id", "referral_code", unique=True),
        Index("ix_members_tier", "shop_id", "tier_id"),
        # The members merged into one (customers/merge): verify-ledger and a later merge read them.
        Index("ix_members_merged_into", "merged_into_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(BigInteger)
    email: Mapped[str | None] = mapped_column(String(320))
    first_name: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(255))
    # The customer payload's updated_at, so a stale customers/update cannot win.
    profile_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by customers/redact: the profile is gone and later payloads may not bring it back.
    redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    balance: Mapped[int] = mapped_column(Points, default=0)
    lifetime_earned: Mapped[int] = mapped_column(Points, default=0)
    # Points earned but not spendable yet (the program's pending_days); `balance` is spendable.
    pending: Mapped[int] = mapped_column(Points, default=0, server_default="0")
    # The business time of the last earning or redeeming, for the `inactivity` expiry policy.
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Made with the member (older members got theirs in migration 0014) and never changed:
    # links shared with friends keep working. NULL only if a row was written around the model.
    referral_code: Mapped[str | None] = mapped_column(String(16), default=new_referral_code)
    # "MM-DD", no year (SPEC "Birthdays"); when it was last saved, for the 30-day rule.
    birthday: Mapped[str | None] = mapped_column(String(5))
    birthday_saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The member's tier (plugin/loyalty/tiers/): no foreign key, tiers are only ever soft-deleted
    # (see plugin/models/tiers.py) and a tick moves their members; `tier_changes` counts the
    # changes, so each `tier_changed` event has a key of its own.
    tier_id: Mapped[int | None] = mapped_column(Id)
    tier_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_tier_id: Mapped[int | None] = mapped_column(Id)
    paid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tier_changes: Mapped[int] = mapped_column(default=0, server_default="0")
    # Set when the platform merged this customer into another (customers/merge): the member
    # whose account now holds this one's points, lots, tier figures and referrals
    # (plugin/loyalty/ledger/merging.py). Always the final one: a later merge of that member
    # moves this link on, so one step reaches the live account.
    merged_into_id: Mapped[int | None] = mapped_column(Id)
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last order day (shop's zone) whose silence the tick already told as `member_at_risk`
    # (plugin/loyalty/churn/crossings.py): one event per crossing, none again while it lasts.
    at_risk_order_day: Mapped[date | None] = mapped_column()
