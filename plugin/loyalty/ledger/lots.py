"""Point lots: the ledger's record of which points a member holds, and since when.

Only the ledger package (plugin/loyalty/ledger/) calls this module, in the transaction that writes the entry
a lot change explains; nothing here moves a balance. The rules:
- every credit opens a lot dated by its business time (an order's processed_at);
- spending and other debits use the oldest spendable lots first; a reversal uses its own
  order's lot first, then the oldest;
- points given back for a redemption return to the lots the spend used, with their dates,
  so a code that fails or expires never makes points live longer than they would have;
- expiry (ledger.expire_*) empties the lots whose date has come.
"""
from datetime import datetime

from sqlalchemy import case, false, func, select, update
from sqlalchemy.orm import Session

from plugin.db import insert_for
from plugin.models import LotUse, PointLot

LOTS = PointLot.__table__
USES = LotUse.__table__


def open_lots(session: Session, lots: list[dict]) -> None:
    """One multi-row insert: dicts of shop_id, member_id, entry_id, order_id, earned_at, amount, pending_until,
    and credited_at (its entry's created_at) for a lot that may start pending."""
    if lots:
        session.execute(insert_for(session, LOTS), [{"credited_at": None, **lot, "remaining": lot["amount"], "expired": 0}
                                                    for lot in lots])


def use_lots(session: Session, member_id: int, entry_id: int, points: int, order_id: int | None = None,
             lot_id: int | None = None) -> int:
    """Use up to `points` from the member's lots for the debit `entry_id`; returns how many
    were covered (less when the lots hold less: the rest is a debt the balance carries).

    The order's own lot goes first when `order_id` is given (a refund takes back its own
    order's points), or the lot `lot_id` (a referral's reversal), then spendable lots oldest first.
    """
    own = LOTS.c.order_id == order_id if order_id is not None else LOTS.c.id == lot_id if lot_id else false()
    lots = session.execute(select(LOTS.c.id, LOTS.c.shop_id, LOTS.c.remaining).where(
        LOTS.c.member_id == member_id, LOTS.c.remaining > 0, LOTS.c.pending_until.is_(None) | own,
    ).order_by(case((own, 0), else_=1), LOTS.c.earned_at, LOTS.c.id).with_for_update()).all()
    taken, uses = 0, []
    for lot in lots:
        if taken == points:
            break
        part = min(lot.remaining, points - taken)
        uses.append({"shop_id": lot.shop_id, "lot_id": lot.id, "entry_id": entry_id, "points": part})
        taken += part
    _apply_uses(session, uses)
    return taken


def return_to_lots(session: Session, member_id: int, shop_id: int, spend_entry_id: int | None, entry_id: int,
                   points: int, now: datetime) -> None:
    """Points given back (entry `entry_id`) go back to the lots the spend used, newest use
    first; what the spend did not take from a lot (it predates lots) opens a lot dated now."""
    used = [] if spend_entry_id is None else session.execute(select(USES.c.lot_id, USES.c.points).where(
        USES.c.entry_id == spend_entry_id).order_by(USES.c.id.desc())).all()
    back, uses = 0, []
    for use in used:
        if back == points:
            break
        part = min(use.points, points - back)
        uses.append({"shop_id": shop_id, "lot_id": use.lot_id, "entry_id": entry_id, "points": -part})
        back += part
    _apply_uses(session, uses)
    if back < points:
        open_lots(session, [dict(shop_id=shop_id, member_id=member_id, entry_id=entry_id, order_id=None,
                                 earned_at=now, amount=points - back, pending_until=None)])


def order_lots(session: Session, shop_id: int, order_id: int) -> tuple[int, int]:
    """(points of the order that expiry took, points of it still pending), in one read: a
    reversal takes neither the first again nor the second from the balance."""
    pending = case((LOTS.c.pending_until.is_not(None), LOTS.c.remaining), else_=0)
    expired, held = session.execute(select(func.coalesce(func.sum(LOTS.c.expired), 0),
                                           func.coalesce(func.sum(pending), 0))
                                    .where(LOTS.c.shop_id == shop_id, LOTS.c.order_id == order_id)).one()
    return int(expired), int(held)


def _apply_uses(session: Session, uses: list[dict]) -> None:
    """Move each lot's `remaining` by its use (negative: points given back) and record the uses."""
    if not uses:
        return
    session.execute(insert_for(session, USES), uses)
    for use in uses:
        session.execute(update(LOTS).where(LOTS.c.id == use["lot_id"])
                        .values(remaining=LOTS.c.remaining - use["points"]))
