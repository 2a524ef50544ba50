"""Point lots: which points a member holds, by when they were earned, for expiry and pending.

Every credit (an order's award, a bonus, a positive adjustment, returned redemption points)
is a lot; debits use lots up: spending takes the oldest first, a reversal its own order's
lot first. The ledger (plugin/loyalty/ledger/) keeps them beside the entries in the same
transaction; `remaining` is what is left of a lot, `expired` what expiry took from it.
`LotUse` remembers which lots a debit used, so points given back (a code that failed or
expired unused) return to the lots they came from, with those lots' dates.
"""
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from plugin.db import Base, Id, Points, UTCDateTime


class PointLot(Base):
    __tablename__ = "point_lots"
    __table_args__ = (
        CheckConstraint("remaining >= 0", name="remaining_not_negative"),
        CheckConstraint("expired >= 0", name="expired_not_negative"),
        Index("ix_point_lots_member", "member_id", "earned_at", "id"),
        Index("ix_point_lots_earned", "shop_id", "earned_at"),
        Index("ix_point_lots_order", "shop_id", "order_id"),
        Index("ix_point_lots_pending", "pending_until"),
        # The liability statement reads the lots released during its period (migration 0019).
        Index("ix_point_lots_released", "shop_id", "released_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    # The credit entry the lot comes from (NULL for balances that predate lots, migration 0012).
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id", ondelete="CASCADE"), unique=True)
    order_id: Mapped[int | None] = mapped_column(BigInteger)
    # The business time the points belong to (the order's processed_at, else when credited).
    earned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    amount: Mapped[int] = mapped_column(Points)
    remaining: Mapped[int] = mapped_column(Points)
    expired: Mapped[int] = mapped_column(Points, default=0)
    # Set while the lot's points are pending (members.pending, not spendable); `tick`
    # releases them to the balance at this time and clears it.
    pending_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the tick released the lot's pending points (NULL: never pending, still pending, or
    # released before migration 0019): the liability statement's pending points by day.
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When its entry was posted (the entry's created_at), for the lots that may start pending
    # (orders' awards, referrals; NULL for the others): the statement's day a pending lot began.
    credited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LotUse(Base):
    __tablename__ = "point_lot_uses"
    __table_args__ = (Index("ix_point_lot_uses_entry", "entry_id"), Index("ix_point_lot_uses_lot", "lot_id"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("point_lots.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id", ondelete="CASCADE"))
    points: Mapped[int] = mapped_column(Points)
