"""Spending points on a redemption, giving them back, and spending them again.

Spending never trusts a caller's read: `spend_points` moves the balance with
`WHERE balance >= points` and the row count decides.
"""
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from plugin.db import insert_for, utcnow
from plugin.loyalty.ledger.lots import use_lots
from plugin.loyalty.ledger.posting import ENTRIES, MEMBERS, entry_row, latest_activity, post
from plugin.models import EntryKind


class InsufficientPoints(Exception):
    """A spend the balance cannot cover; nothing was written, but the caller must roll back."""



def spend_points(session: Session, shop_id: int, member: int, redemption_id: int, points: int, reason: str) -> None:
    """Take a redemption's cost, or raise InsufficientPoints and take nothing.

    Redeeming is activity, so it restarts the `inactivity` expiry clock. The database
    decides, not the caller's earlier read: the balance moves only through
    `balance >= points` in the UPDATE's own WHERE, so two spends that both read enough
    cannot both succeed, on any backend and whatever locks the caller took.
    """
    if points <= 0:
        raise ValueError("a spend must take points")
    debit = update(MEMBERS).where(MEMBERS.c.id == member, MEMBERS.c.balance >= points).values(
        balance=MEMBERS.c.balance - points, last_activity_at=latest_activity(utcnow()))
    debited = session.execute(debit).rowcount
    if debited != 1:
        balance = session.scalar(select(MEMBERS.c.balance).where(MEMBERS.c.id == member))
        raise InsufficientPoints(f"the balance is {balance}")
    # A plain INSERT: a second spend for the same redemption is a bug, and must fail loudly.
    spent = session.execute(insert_for(session, ENTRIES).values(entry_row(
        shop_id, member, -points, EntryKind.REDEMPTION, str(redemption_id), reason)).returning(ENTRIES.c.id)).scalar()
    use_lots(session, member, spent, points)



def return_redeemed_points(session: Session, shop_id: int, member: int, redemption_id: int, points: int,
                           reason: str) -> bool:
    """Give a redemption's points back (code never made, or expired unused); at most once."""
    return post(session, shop_id, member, points, EntryKind.REDEMPTION_RETURN, str(redemption_id), reason)



def reclaim_returned_points(session: Session, shop_id: int, member: int, redemption_id: int, points: int,
                            reason: str) -> bool:
    """A code whose points were given back on expiry was used after all: spend them again, once."""
    returned = session.scalar(select(ENTRIES.c.id).where(
        ENTRIES.c.shop_id == shop_id, ENTRIES.c.kind == EntryKind.REDEMPTION_RETURN,
        ENTRIES.c.source_id == str(redemption_id)))
    if returned is None:
        return False
    return post(session, shop_id, member, -points, EntryKind.REDEMPTION, f"{redemption_id}-used", reason)
