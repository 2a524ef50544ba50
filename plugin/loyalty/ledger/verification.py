"""`verify-ledger`: every balance, pending figure and lifetime total against its entries and lots.

Each check takes an optional shop id, so the command can check shop by shop: one shop's
unreadable figures are reported and the others are still checked."""
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from plugin.loyalty.ledger.lots import LOTS
from plugin.loyalty.ledger.merging import owner
from plugin.loyalty.ledger.posting import ENTRIES, MEMBERS
from plugin.models import EntryKind


def verify_balances(session: Session, shop_id: int | None = None) -> list[dict]:
    """Members whose balance plus pending points, or lifetime total, differs from their entries' sums."""
    # EntryKind.lifetime_part, in SQL.
    earned = case((ENTRIES.c.kind.in_([k for k in EntryKind if k.counts_as_earned]) & (ENTRIES.c.delta > 0),
                   ENTRIES.c.delta),
                  ((ENTRIES.c.kind == EntryKind.ADJUSTMENT_REVERSAL) & (ENTRIES.c.delta < 0), ENTRIES.c.delta),
                  else_=0)
    sums = select(ENTRIES.c.member_id, func.sum(ENTRIES.c.delta).label("total")).where(
        *_of(ENTRIES, shop_id)).group_by(ENTRIES.c.member_id).subquery()
    # Lifetime points follow a merge (plugin/loyalty/ledger/merging.py): a member's are its own
    # entries' and those of the members merged into it; a member merged away has none.
    earnings = select(owner().label("member_id"), func.sum(earned).label("earned")).join(
        MEMBERS, MEMBERS.c.id == ENTRIES.c.member_id).where(*_of(ENTRIES, shop_id)).group_by(owner()).subquery()
    rows = session.execute(select(
        MEMBERS.c.shop_id, MEMBERS.c.customer_id, MEMBERS.c.balance, MEMBERS.c.pending, MEMBERS.c.lifetime_earned,
        func.coalesce(sums.c.total, 0).label("total"), func.coalesce(earnings.c.earned, 0).label("earned"),
    ).outerjoin(sums, sums.c.member_id == MEMBERS.c.id).outerjoin(earnings, earnings.c.member_id == MEMBERS.c.id)
        .where(*_of(MEMBERS, shop_id)).where(
        (MEMBERS.c.balance + MEMBERS.c.pending != func.coalesce(sums.c.total, 0))
        | (MEMBERS.c.lifetime_earned != func.coalesce(earnings.c.earned, 0))
    )).all()
    return [dict(row._mapping) for row in rows]



def verify_pending(session: Session, shop_id: int | None = None) -> list[dict]:
    """Members whose pending points differ from what their pending lots still hold."""
    held = select(LOTS.c.member_id, func.sum(LOTS.c.remaining).label("held")).where(
        LOTS.c.pending_until.is_not(None), *_of(LOTS, shop_id)).group_by(LOTS.c.member_id).subquery()
    rows = session.execute(select(MEMBERS.c.shop_id, MEMBERS.c.customer_id, MEMBERS.c.pending,
                                  func.coalesce(held.c.held, 0).label("held"))
                           .outerjoin(held, held.c.member_id == MEMBERS.c.id).where(*_of(MEMBERS, shop_id))
                           .where(MEMBERS.c.pending != func.coalesce(held.c.held, 0))).all()
    return [dict(row._mapping) for row in rows]


def _of(table, shop_id: int | None) -> list:
    """The filter to one shop's rows, or none (every shop)."""
    return [] if shop_id is None else [table.c.shop_id == shop_id]
