"""The ledger's posting primitives: one entry written with the member's totals and lots.

Private to the ledger package (`.importlinter` protects it): every other module moves points
through a verb named after a business event (orders, bonuses, spending, expiry), which
calls `post` beside the entry that explains the move.
"""
from datetime import datetime

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from plugin.db import insert_for, utcnow
from plugin.loyalty.ledger.lots import open_lots, return_to_lots, use_lots
from plugin.models import EntryKind, LedgerEntry, Member, OrderRecord, RefundRecord

ORDERS = OrderRecord.__table__
REFUNDS = RefundRecord.__table__
ENTRIES = LedgerEntry.__table__
MEMBERS = Member.__table__


# Credits that open a lot of their own; a redemption's returned points go back to its lots.
OPENS_LOT = {EntryKind.SIGNUP_BONUS, EntryKind.ADJUSTMENT, EntryKind.REFERRAL, EntryKind.BIRTHDAY_BONUS,
             EntryKind.ORDER_AWARD, EntryKind.ADJUSTMENT_REVERSAL}


def post(session: Session, shop_id: int, member: int, delta: int, kind: EntryKind, source_id: str,
          reason: str, order_id: int | None = None, pending: int = 0, earned_at: datetime | None = None,
          pending_until: datetime | None = None, own_lot: int | None = None) -> bool:
    """Write one entry, move the member's totals and lots with it; False if the key was already there.

    `pending` is the part of `delta` that moves the member's pending points instead of the
    balance (a credit still in its pending window, a reversal of one). A debit uses the
    order's lot (`order_id`) or the lot `own_lot` first, then the oldest.
    """
    posted = session.execute(insert_for(session, ENTRIES).values(
        entry_row(shop_id, member, delta, kind, source_id, reason, order_id),
    ).on_conflict_do_nothing().returning(ENTRIES.c.id, ENTRIES.c.created_at)).first()
    if posted is None:
        return False
    session.execute(update(MEMBERS).where(MEMBERS.c.id == member).values(
        balance=MEMBERS.c.balance + (delta - pending), pending=MEMBERS.c.pending + pending,
        lifetime_earned=MEMBERS.c.lifetime_earned + kind.lifetime_part(delta)))
    if delta < 0:
        use_lots(session, member, posted.id, -delta, order_id, own_lot)
    elif kind is EntryKind.REDEMPTION_RETURN:
        spend = session.scalar(select(ENTRIES.c.id).where(
            ENTRIES.c.shop_id == shop_id, ENTRIES.c.kind == EntryKind.REDEMPTION, ENTRIES.c.source_id == source_id))
        return_to_lots(session, member, shop_id, spend, posted.id, delta, utcnow())
    elif kind in OPENS_LOT:
        open_lots(session, [dict(shop_id=shop_id, member_id=member, entry_id=posted.id, order_id=order_id,
                                 earned_at=earned_at or utcnow(), amount=delta, pending_until=pending_until,
                                 credited_at=posted.created_at)])
    return True


def entry_row(shop_id: int, member: int, delta: int, kind: EntryKind, source_id: str, reason: str,
              order_id: int | None = None) -> dict:
    return dict(shop_id=shop_id, member_id=member, delta=delta, kind=kind, source_id=source_id,
                order_id=order_id, reason=reason[:500])



def latest_activity(moment: datetime):
    """The member's last activity moved to `moment`, never back (orders carry their own times)."""
    column = MEMBERS.c.last_activity_at
    return case((column.is_(None) | (column < moment), moment), else_=column)



def lock_order(session: Session, shop_id: int, order_id: int):
    return session.execute(select(ORDERS).where(ORDERS.c.shop_id == shop_id, ORDERS.c.order_id == order_id)
                           .with_for_update()).one()



def lock_or_create_order(session: Session, shop_id: int, order_id: int):
    session.execute(insert_for(session, ORDERS).values(shop_id=shop_id, order_id=order_id).on_conflict_do_nothing())
    return lock_order(session, shop_id, order_id)
