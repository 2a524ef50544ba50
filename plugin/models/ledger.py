"""The append-only points ledger: one row per change of a member's points.

The business key (`shop_id`, `kind`, `source_id`) is unique, so the database itself refuses
a second award for one order, a second reversal for one refund, a second signup bonus.
"""
import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugin.db import Base, Id, Points, UTCDateTime, utcnow
from plugin.models.enums import stored_by_value


class EntryKind(enum.Enum):
    ORDER_AWARD = "order_award"
    REFUND_REVERSAL = "refund_reversal"
    CANCEL_REVERSAL = "cancel_reversal"
    SIGNUP_BONUS = "signup_bonus"
    ADJUSTMENT = "adjustment"
    REDEMPTION = "redemption"
    REDEMPTION_RETURN = "redemption_return"
    EXPIRY = "expiry"
    REFERRAL = "referral"
    BIRTHDAY_BONUS = "birthday_bonus"
    REFERRAL_REVERSAL = "referral_reversal"
    ADJUSTMENT_REVERSAL = "adjustment_reversal"  # a merchant undoing one of their adjustments
    # Points brought from another loyalty app (plugin/loyalty/ledger/imports.py), and taken back.
    IMPORT = "import"
    IMPORT_REVERSAL = "import_reversal"
    # customers/merge: what the merged customer held leaves their account and joins the kept one's.
    MERGE_OUT = "merge_out"
    MERGE_IN = "merge_in"

    @property
    def source(self) -> str:
        """The SPEC's source vocabulary: what kind of thing caused this entry."""
        return _SOURCES[self]

    @property
    def counts_as_earned(self) -> bool:
        return self in (EntryKind.ORDER_AWARD, EntryKind.SIGNUP_BONUS, EntryKind.ADJUSTMENT, EntryKind.REFERRAL,
                        EntryKind.BIRTHDAY_BONUS)

    def lifetime_part(self, delta: int) -> int:
        """What an entry of this kind and delta adds to a member's lifetime points: earnings add,
        and undoing a manual credit takes it back out (undoing a debit gives back nothing that
        ever counted), so a mistake and its undo leave the lifetime figure as it was."""
        if self.counts_as_earned:
            return max(delta, 0)
        return min(delta, 0) if self is EntryKind.ADJUSTMENT_REVERSAL else 0


_SOURCES = {
    EntryKind.ORDER_AWARD: "order",
    EntryKind.REFUND_REVERSAL: "refund",
    EntryKind.CANCEL_REVERSAL: "order",
    EntryKind.SIGNUP_BONUS: "customer",
    EntryKind.ADJUSTMENT: "adjustment",
    EntryKind.REDEMPTION: "redemption",
    EntryKind.REDEMPTION_RETURN: "redemption",
    EntryKind.EXPIRY: "expiry",
    EntryKind.REFERRAL: "order",
    EntryKind.BIRTHDAY_BONUS: "birthday",
    EntryKind.REFERRAL_REVERSAL: "order",
    EntryKind.ADJUSTMENT_REVERSAL: "adjustment",
    EntryKind.IMPORT: "import",
    EntryKind.IMPORT_REVERSAL: "import",
    EntryKind.MERGE_OUT: "merge",
    EntryKind.MERGE_IN: "merge",
}


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("shop_id", "kind", "source_id", name="uq_ledger_entries_business_key"),
        CheckConstraint("delta <> 0", name="delta_not_zero"),
        Index("ix_ledger_entries_member", "member_id", "id"),
        Index("ix_ledger_entries_order", "shop_id", "order_id"),
        # The dashboard sums a shop's entries per day (plugin/loyalty/analytics/dashboard.py); kind and delta ride
        # along so PostgreSQL answers from the index alone.
        Index("ix_ledger_entries_created", "shop_id", "created_at", "kind", "delta"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    delta: Mapped[int] = mapped_column(Points)
    kind: Mapped[EntryKind] = mapped_column(stored_by_value(EntryKind))
    # The id of what caused the entry (order id, refund id, customer id, ...), as text.
    source_id: Mapped[str] = mapped_column(String(64))
    # The order whose points this entry moves, if any: "what an order still holds" sums these.
    order_id: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(500))
    # An award's explanation: [{"rule_id", "label", "points"}] summing exactly to `delta`.
    breakdown: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
