"""VIP tiers and the per-member figures that decide them (SPEC "Tiers").

A tier is never deleted while its shop lives: DELETE turns `live` from TRUE to NULL, which
frees its threshold (the unique constraint covers (shop, threshold, live), and NULLs never
collide), and members still holding it keep its name and rank for their `tier_changed`
events until the next tick moves them.

`MemberTierTotal` holds what a member's orders count toward tiers, per business year
(`grain` "year", `starts_on` 1 January) and per business day (`grain` "day"): lifetime sums
a member's few year rows, a calendar year reads two of them, the rolling window sums at most
365 day rows. Both bases are kept (points, and money in millionths so SQLite sums it
exactly), so a merchant may switch basis or window at any time.
"""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.db import Base, ExactDecimal, Id, Points, UTCDateTime, utcnow


class Tier(Base):
    __tablename__ = "tiers"
    __table_args__ = (UniqueConstraint("shop_id", "threshold", "live", name="uq_tiers_threshold"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    # Points or money, by the program's tier_basis.
    threshold: Mapped[Decimal] = mapped_column(ExactDecimal)
    multiplier: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(1))
    perks: Mapped[str] = mapped_column(Text, default="")
    # A paid membership: buying this product puts the customer in this tier for 12 months.
    product_id: Mapped[int | None] = mapped_column(BigInteger)
    # A perk members get at checkout without a code (plugin/loyalty/tiers/perks.py): a free
    # shipping or percentage-off reward, applied by an automatic discount for the tier's segment.
    # (No foreign key, like programs.referral_reward_id: rewards are never deleted for real.)
    perk_reward_id: Mapped[int | None] = mapped_column(Id)
    # What the platform holds for the perk (gids), and how its discount was made.
    perk_segment_id: Mapped[str | None] = mapped_column(String(255))
    perk_discount_id: Mapped[str | None] = mapped_column(String(255))
    perk_discount_kind: Mapped[str | None] = mapped_column(String(16))
    # "pending" until the platform matches the tier, then "synced" (or "failed" with its error).
    perk_state: Mapped[str | None] = mapped_column(String(16))
    perk_error: Mapped[str | None] = mapped_column(Text)
    perk_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # A lease: one caller at a time talks to the platform about this tier's perk.
    perk_next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # TRUE while the tier exists, NULL once deleted (never FALSE: see the module docstring).
    live: Mapped[bool | None] = mapped_column(default=True)


class MemberTierTotal(Base):
    __tablename__ = "member_tier_totals"
    __table_args__ = (
        CheckConstraint("grain IN ('year', 'day')", name="grain_known"),
        Index("ix_member_tier_totals_shop", "shop_id", "grain", "starts_on"),
    )

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    grain: Mapped[str] = mapped_column(String(8), primary_key=True)
    starts_on: Mapped[date] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column()
    points: Mapped[int] = mapped_column(Points)
    amount_micros: Mapped[int] = mapped_column(Points)
