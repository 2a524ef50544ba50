"""Points that are given, not earned by an order: signup, referral and birthday bonuses, and
the merchant's adjustments (with the referral's reversal when the friend's order is cancelled)."""
import uuid
from datetime import datetime, timedelta

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from plugin.db import insert_for, utcnow
from plugin.loyalty.ledger.lots import LOTS, open_lots
from plugin.loyalty.ledger.posting import ENTRIES, MEMBERS, entry_row, latest_activity, post
from plugin.models import EntryKind


def grant_signup_bonus(session: Session, shop_id: int, member: int, customer_id: int, points: int) -> int:
    """The one-time bonus for joining; a second customers/create grants nothing."""
    if points <= 0:
        return 0
    posted = post(session, shop_id, member, points, EntryKind.SIGNUP_BONUS, str(customer_id),
                   "Signup bonus")
    return points if posted else 0



def award_referral(session: Session, shop_id: int, referrer: int, friend_order_id: int, points: int,
                   reason: str, earned_at: datetime | None = None, pending_days: int = 0) -> bool:
    """Pay a referrer for their friend's first paid order, once per friend's order.

    The entry's source is the friend's order, but it carries no `order_id`: that column sums
    what an order still holds for the friend's own refunds, and these points are not theirs.
    Like order points they are pending until `pending_days` after the friend's order's
    business time (`earned_at`), and their lot is dated by it.
    """
    if points <= 0:
        return False
    earned_at = earned_at or utcnow()
    until = earned_at + timedelta(days=pending_days) if pending_days else None
    until = until if until is not None and until > utcnow() else None
    posted = post(session, shop_id, referrer, points, EntryKind.REFERRAL, str(friend_order_id), reason,
                   pending=points if until else 0, earned_at=earned_at, pending_until=until)
    if posted:  # earning restarts the `inactivity` clock, as an order does (from its business time)
        session.execute(update(MEMBERS).where(MEMBERS.c.id == referrer)
                        .values(last_activity_at=latest_activity(earned_at)))
    return posted



def reverse_referral(session: Session, shop_id: int, referrer: int, friend_order_id: int, reason: str) -> int:
    """The friend's order was cancelled: take back what its referral paid, once; returns the
    points taken. Its own lot goes first (pending points before spendable ones), and what
    expiry already took from it is not taken again."""
    paid = session.execute(select(ENTRIES.c.id, ENTRIES.c.delta).where(
        ENTRIES.c.shop_id == shop_id, ENTRIES.c.kind == EntryKind.REFERRAL,
        ENTRIES.c.source_id == str(friend_order_id))).first()
    if paid is None:
        return 0
    lot = session.execute(select(LOTS.c.id, LOTS.c.remaining, LOTS.c.expired, LOTS.c.pending_until)
                          .where(LOTS.c.entry_id == paid.id)).first()
    taken = paid.delta - (lot.expired if lot else 0)
    if taken <= 0:
        return 0
    pending = min(taken, lot.remaining) if lot is not None and lot.pending_until is not None else 0
    posted = post(session, shop_id, referrer, -taken, EntryKind.REFERRAL_REVERSAL, str(friend_order_id), reason,
                   pending=-pending, own_lot=lot.id if lot else None)
    return taken if posted else 0



def grant_birthday_bonuses(session: Session, due: list[tuple[int, int, int, str]], reason: str,
                           now: datetime | None = None) -> list[tuple]:
    """Birthday bonuses for (shop id, member id, points, year key) rows: one multi-row insert
    for the entries, one for their lots and one UPDATE for the balances. A key granted before
    (this member's year) is skipped by the unique business key; returns the (shop, member,
    points) granted."""
    if not due:
        return []
    now = now or utcnow()
    rows = [{**entry_row(shop, member, points, EntryKind.BIRTHDAY_BONUS, key, reason), "created_at": now}
            for shop, member, points, key in due]
    granted = session.execute(insert_for(session, ENTRIES).on_conflict_do_nothing().returning(
        ENTRIES.c.id, ENTRIES.c.shop_id, ENTRIES.c.member_id, ENTRIES.c.delta), rows).all()
    if granted:
        credit = {row.member_id: row.delta for row in granted}
        delta = case(credit, value=MEMBERS.c.id)
        # Earning restarts the `inactivity` clock: without it, a member idle past
        # expiry_months lost the bonus at the very next tick, minutes after it was given.
        session.execute(update(MEMBERS).where(MEMBERS.c.id.in_(credit)).values(
            balance=MEMBERS.c.balance + delta, lifetime_earned=MEMBERS.c.lifetime_earned + delta,
            last_activity_at=latest_activity(now)))
        open_lots(session, [dict(shop_id=row.shop_id, member_id=row.member_id, entry_id=row.id, order_id=None,
                                 earned_at=now, amount=row.delta, pending_until=None) for row in granted])
    return [(row.shop_id, row.member_id, row.delta) for row in granted]



class NotReversible(Exception):
    """The entry cannot be undone: `missing` if it is not one of this member's adjustments,
    else it was undone already or nothing of it is left."""

    def __init__(self, message: str, missing: bool = False):
        super().__init__(message)
        self.missing = missing


def reverse_adjustment(session: Session, shop_id: int, member: int, entry_id: int, reason: str) -> int:
    """Undo one of the member's adjustments with an opposite entry, once; returns its id.

    Never an edit: the adjustment stays in the history beside its reversal. Points a credit
    gave are taken from its own lot first (then the oldest), and may take the balance below
    zero if they were spent, like any reversal, but what expiry took from them is not taken
    again; lifetime points lose what is taken (EntryKind.lifetime_part). Points a debit took
    come back in a lot dated now.
    """
    adjustment = session.execute(select(ENTRIES.c.id, ENTRIES.c.delta).where(
        ENTRIES.c.id == entry_id, ENTRIES.c.shop_id == shop_id, ENTRIES.c.member_id == member,
        ENTRIES.c.kind == EntryKind.ADJUSTMENT)).first()
    if adjustment is None:
        raise NotReversible("no such adjustment of this member", missing=True)
    lot = session.execute(select(LOTS.c.id, LOTS.c.expired).where(LOTS.c.entry_id == adjustment.id)).first()
    # What expiry already took from a credit is not taken again (as for every reversal).
    delta = -adjustment.delta + (lot.expired if lot else 0)
    if delta == 0:
        raise NotReversible("the points of this adjustment have expired: nothing is left to take back")
    if not post(session, shop_id, member, delta, EntryKind.ADJUSTMENT_REVERSAL, str(adjustment.id), reason,
                own_lot=lot.id if lot else None):
        raise NotReversible("this adjustment was reversed already")
    return session.scalar(select(ENTRIES.c.id).where(
        ENTRIES.c.shop_id == shop_id, ENTRIES.c.kind == EntryKind.ADJUSTMENT_REVERSAL,
        ENTRIES.c.source_id == str(adjustment.id)))


def adjust_points(session: Session, shop_id: int, member: int, points: int, reason: str) -> int:
    """A merchant's manual change, either way; returns the new entry's id."""
    if points == 0:
        raise ValueError("an adjustment must move points")
    source_id = uuid.uuid4().hex
    post(session, shop_id, member, points, EntryKind.ADJUSTMENT, source_id, reason)
    return session.scalar(select(ENTRIES.c.id).where(
        ENTRIES.c.shop_id == shop_id, ENTRIES.c.kind == EntryKind.ADJUSTMENT, ENTRIES.c.source_id == source_id))
