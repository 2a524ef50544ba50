"""The points ledger: the only place where points move.

Design
- An entry is one signed change of one member's points, with the business event that caused
  it (`kind`), the id of its source and a readable reason. Entries are never edited; a
  correction is another entry (the migration adds a trigger that refuses UPDATE).
- `members.balance` and `members.lifetime_earned` are kept in the same transaction as the
  entry that changes them, with `balance = balance + delta` so concurrent writers add up
  instead of overwriting. `verify-ledger` checks that every balance equals its entries' sum.
- Idempotency rests on business keys, not on webhook ids: one `orders` row per order (its
  `earned_points` set once), one `refunds` row per refund, and the unique
  (shop, kind, source_id) on entries as the database's last word.
- Order of arrival does not matter. A refund or cancellation for an order that has not
  earned yet is recorded and applied when the award happens; each reversal takes at most
  what the order still holds (the sum of its entries), so the final balance is
  award - min(award, refunds), or 0 once cancelled, whatever the order of events.
- Locks: every change that concerns an order first locks that order's row (FOR UPDATE on
  PostgreSQL; on SQLite every writing transaction holds the database's write lock from its
  BEGIN IMMEDIATE, see plugin/db.py), then the member's row through its UPDATE. Always in
  that order, so two jobs cannot deadlock on one order and member.
- Spending never trusts a caller's read: `spend_points` moves the balance with
  `WHERE balance >= points` and the row count decides. Reversals (refunds, cancellations,
  a code used after its points came back) may go below zero, so they use `_post`.
"""
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from plugin.db import insert_for, insert_new, utcnow
from plugin.loyalty.earning.engine import (
    Award,
    RefundLine,
    award,
    breakdown_json,
    figures_from_json,
    figures_json,
    order_facts_json,
    refund_lines_from_json,
    refund_lines_json,
    refund_points,
)
from plugin.loyalty.earning.rules import OrderFacts, ProgramRules, points_for
from plugin.loyalty.lots import LOTS, open_lots, order_lots, return_to_lots, use_lots
from plugin.loyalty.members import email_once_known, member_id
from plugin.loyalty.tiers.ladder import micros
from plugin.loyalty.tiers.ordering import end_cancelled_membership
from plugin.loyalty.tiers.totals import book_orders, book_reversal
from plugin.models import EntryKind, LedgerEntry, Member, OrderRecord, RefundRecord

ORDERS = OrderRecord.__table__
REFUNDS = RefundRecord.__table__
ENTRIES = LedgerEntry.__table__
MEMBERS = Member.__table__


@dataclass(frozen=True)
class RefundFacts:
    refund_id: int
    order_id: int
    refunded_subtotal: Decimal
    lines: tuple[RefundLine, ...] = ()


def award_points_for_order(session: Session, shop_id: int, order: OrderFacts, rules: ProgramRules,
                           priced: Award | None = None) -> int:
    """Credit the order's customer once for this order; returns the points awarded now.

    `priced` is what the earning engine made of the order (the base rate alone if not
    given). Also applies any refund or cancellation that arrived before the order did.
    """
    priced = priced or award(order, rules)
    points = priced.points
    values = _order_values(order, priced, rules)
    inserted = session.execute(
        insert_for(session, ORDERS).values(shop_id=shop_id, order_id=order.order_id, **values)
        .on_conflict_do_nothing().returning(ORDERS.c.id)
    ).first()
    if inserted is None:
        record = _lock_order(session, shop_id, order.order_id)
        if record.earned_points is not None:
            return 0  # already awarded: a duplicate or a second topic for the same order
        session.execute(update(ORDERS).where(ORDERS.c.id == record.id).values(**values))
    if order.customer_id is not None:
        _credit_orders(session, shop_id, [order], {order.order_id: priced}, rules.pending_days)
    if inserted is None:
        _apply_pending_reversals(session, shop_id, order.order_id)
    return points


def award_points_for_orders(session: Session, shop_id: int, orders: list[OrderFacts], rules: ProgramRules,
                            priced: dict[int, Award] | None = None) -> None:
    """Award a batch of paid orders with three statements in all, whatever its size.

    The same rules as `award_points_for_order`, order by order: orders the ledger has not
    seen are inserted, credited and entered together; an order it already knows (a refund
    or cancellation came first, or the same order twice in the batch) takes the one-by-one
    path, which applies what is waiting for it.
    """
    if not orders:
        return
    firsts: dict[int, OrderFacts] = {}
    for order in orders:
        firsts.setdefault(order.order_id, order)
    priced = {order.order_id: (priced or {}).get(order.order_id) or award(order, rules) for order in firsts.values()}
    rows = [dict(shop_id=shop_id, order_id=order.order_id, **_order_values(order, priced[order.order_id], rules))
            for order in firsts.values()]
    new = set(insert_new(session, ORDERS, rows, ORDERS.c.order_id))
    _credit_orders(session, shop_id, [o for o in firsts.values() if o.order_id in new and o.customer_id], priced,
                   rules.pending_days)
    for order in orders:
        if order.order_id not in new or firsts[order.order_id] is not order:
            award_points_for_order(session, shop_id, order, rules, priced[order.order_id])


def _order_values(order: OrderFacts, priced: Award, rules: ProgramRules) -> dict:
    return dict(name=order.name, customer_id=order.customer_id, earned_points=priced.points,
                rate=rules.points_per_currency_unit, total_price=order.total_price,
                paid_at=order.paid_at or utcnow(), lines=figures_json(priced.lines),
                tier_multiplier=priced.tier_multiplier, facts=order_facts_json(order),
                tier_day=order.business_day, tier_amount_micros=micros(priced.eligible))


def _credit_orders(session: Session, shop_id: int, orders: list[OrderFacts], priced: dict[int, Award],
                   pending_days: int) -> None:
    """Create the orders' members and credit them: one upsert, one multi-row insert of
    entries and one of lots. Points whose order is younger than `pending_days` go to
    `pending`; an order whose pending window closed before it arrived credits the balance."""
    if not orders:
        return
    now, accounts = utcnow(), {}
    pending_until = {}
    for order in orders:
        points, earned_at = priced[order.order_id].points, business_time(order)
        until = earned_at + timedelta(days=pending_days) if pending_days else None
        pending_until[order.order_id] = until if until is not None and until > now else None
        account = accounts.setdefault(order.customer_id, Account())
        account.email = account.email or order.email
        if pending_until[order.order_id] is None:
            account.balance += points
        else:
            account.pending += points
        if points:
            account.active_at = max(account.active_at or earned_at, earned_at)
    owners = _create_and_credit_members(session, shop_id, accounts)
    credited = [order for order in orders if priced[order.order_id].points]
    if credited:
        _enter_awards(session, shop_id, credited, priced, owners, pending_until)
    book_orders(session, shop_id, orders, priced, owners)


def _enter_awards(session: Session, shop_id: int, credited: list[OrderFacts], priced: dict[int, Award],
                  owners: dict[int, int], pending_until: dict[int, datetime | None]) -> None:
    """The award entries (one multi-row insert) and their lots (another)."""
    entries = [dict(shop_id=shop_id, member_id=owners[order.customer_id], delta=priced[order.order_id].points,
                    kind=EntryKind.ORDER_AWARD, source_id=str(order.order_id), order_id=order.order_id,
                    reason=f"Order {order.name or order.order_id} paid",
                    breakdown=breakdown_json(priced[order.order_id]))
               for order in credited]
    ids = dict(session.execute(insert_for(session, ENTRIES).returning(ENTRIES.c.order_id, ENTRIES.c.id), entries).all())
    open_lots(session, [dict(shop_id=shop_id, member_id=owners[order.customer_id], entry_id=ids[order.order_id],
                             order_id=order.order_id, earned_at=business_time(order),
                             amount=priced[order.order_id].points, pending_until=pending_until[order.order_id])
                        for order in credited])


@dataclass
class Account:
    """What one batch credits one customer: spendable and pending points, latest activity."""

    email: str | None = None
    balance: int = 0
    pending: int = 0
    active_at: datetime | None = None


def business_time(order: OrderFacts) -> datetime:
    """When an order's points were earned: its processed_at (else created_at), else now."""
    return order.business_time or order.paid_at or utcnow()


def _create_and_credit_members(session: Session, shop_id: int, accounts: dict[int, Account]) -> dict[int, int]:
    """Member ids by customer id, creating members and adding earned credits in one statement.

    The caller writes the entries that explain the credits in the same transaction. Rows go
    in customer-id order, so concurrent batches lock the members they share in the same order.
    """
    rows = [dict(shop_id=shop_id, customer_id=customer, email=account.email, balance=account.balance,
                 pending=account.pending, lifetime_earned=account.balance + account.pending,
                 last_activity_at=account.active_at)
            for customer, account in sorted(accounts.items())]
    stmt = insert_for(session, MEMBERS)
    later = (MEMBERS.c.last_activity_at.is_(None)) | (stmt.excluded.last_activity_at > MEMBERS.c.last_activity_at)
    stmt = stmt.on_conflict_do_update(index_elements=["shop_id", "customer_id"], set_={
        "email": email_once_known(stmt),
        "balance": MEMBERS.c.balance + stmt.excluded.balance,
        "pending": MEMBERS.c.pending + stmt.excluded.pending,
        "lifetime_earned": MEMBERS.c.lifetime_earned + stmt.excluded.lifetime_earned,
        "last_activity_at": case((later & stmt.excluded.last_activity_at.is_not(None), stmt.excluded.last_activity_at),
                                 else_=MEMBERS.c.last_activity_at),
    }).returning(MEMBERS.c.customer_id, MEMBERS.c.id)
    return dict(session.execute(stmt, rows).all())


def reverse_refund(session: Session, shop_id: int, refund: RefundFacts) -> int:
    """Take back the refunded share of an order's points; returns the points taken now.

    A refund for an order that has not earned yet waits, recorded, for its award.
    """
    inserted = session.execute(
        insert_for(session, REFUNDS).values(shop_id=shop_id, refund_id=refund.refund_id, order_id=refund.order_id,
                                            refunded_subtotal=refund.refunded_subtotal, applied=False,
                                            lines=refund_lines_json(refund.lines) if refund.lines else None)
        .on_conflict_do_nothing().returning(REFUNDS.c.id)
    ).first()
    if inserted is None:
        return 0  # this refund was seen before
    record = _lock_or_create_order(session, shop_id, refund.order_id)
    if record.earned_points is None:
        return 0
    return _apply_refund(session, shop_id, record, inserted.id, refund.refund_id, refund.refunded_subtotal,
                         refund.lines)


def reverse_order_award(session: Session, shop_id: int, order_id: int, cancelled_at: datetime) -> int:
    """A cancelled order gives back whatever it still holds; returns the points taken now."""
    record = _lock_or_create_order(session, shop_id, order_id)
    if record.cancelled_at is not None:
        return 0
    session.execute(update(ORDERS).where(ORDERS.c.id == record.id).values(cancelled_at=cancelled_at))
    if record.earned_points is None:
        return 0
    taken = _take_back(session, shop_id, record, None, EntryKind.CANCEL_REVERSAL, str(order_id),
                       f"Order {record.name or order_id} cancelled")
    end_cancelled_membership(session, shop_id, record)
    return book_reversal(session, shop_id, record, taken, None)


def grant_signup_bonus(session: Session, shop_id: int, member: int, customer_id: int, points: int) -> int:
    """The one-time bonus for joining; a second customers/create grants nothing."""
    if points <= 0:
        return 0
    posted = _post(session, shop_id, member, points, EntryKind.SIGNUP_BONUS, str(customer_id),
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
    posted = _post(session, shop_id, referrer, points, EntryKind.REFERRAL, str(friend_order_id), reason,
                   pending=points if until else 0, earned_at=earned_at, pending_until=until)
    if posted:  # earning restarts the `inactivity` clock, as an order does (from its business time)
        session.execute(update(MEMBERS).where(MEMBERS.c.id == referrer).values(last_activity_at=_latest(earned_at)))
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
    posted = _post(session, shop_id, referrer, -taken, EntryKind.REFERRAL_REVERSAL, str(friend_order_id), reason,
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
    rows = [{**_entry(shop, member, points, EntryKind.BIRTHDAY_BONUS, key, reason), "created_at": now}
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
            last_activity_at=_latest(now)))
        open_lots(session, [dict(shop_id=row.shop_id, member_id=row.member_id, entry_id=row.id, order_id=None,
                                 earned_at=now, amount=row.delta, pending_until=None) for row in granted])
    return [(row.shop_id, row.member_id, row.delta) for row in granted]


def adjust_points(session: Session, shop_id: int, member: int, points: int, reason: str) -> int:
    """A merchant's manual change, either way; returns the new entry's id."""
    if points == 0:
        raise ValueError("an adjustment must move points")
    source_id = uuid.uuid4().hex
    _post(session, shop_id, member, points, EntryKind.ADJUSTMENT, source_id, reason)
    return session.scalar(select(ENTRIES.c.id).where(
        ENTRIES.c.shop_id == shop_id, ENTRIES.c.kind == EntryKind.ADJUSTMENT, ENTRIES.c.source_id == source_id))


def _latest(moment: datetime):
    """The member's last activity moved to `moment`, never back (orders carry their own times)."""
    column = MEMBERS.c.last_activity_at
    return case((column.is_(None) | (column < moment), moment), else_=column)


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
        balance=MEMBERS.c.balance - points, last_activity_at=_latest(utcnow()))
    debited = session.execute(debit).rowcount
    if debited != 1:
        balance = session.scalar(select(MEMBERS.c.balance).where(MEMBERS.c.id == member))
        raise InsufficientPoints(f"the balance is {balance}")
    # A plain INSERT: a second spend for the same redemption is a bug, and must fail loudly.
    spent = session.execute(insert_for(session, ENTRIES).values(_entry(
        shop_id, member, -points, EntryKind.REDEMPTION, str(redemption_id), reason)).returning(ENTRIES.c.id)).scalar()
    use_lots(session, member, spent, points)


def return_redeemed_points(session: Session, shop_id: int, member: int, redemption_id: int, points: int,
                           reason: str) -> bool:
    """Give a redemption's points back (code never made, or expired unused); at most once."""
    return _post(session, shop_id, member, points, EntryKind.REDEMPTION_RETURN, str(redemption_id), reason)


def reclaim_returned_points(session: Session, shop_id: int, member: int, redemption_id: int, points: int,
                            reason: str) -> bool:
    """A code whose points were given back on expiry was used after all: spend them again, once."""
    returned = session.scalar(select(ENTRIES.c.id).where(
        ENTRIES.c.shop_id == shop_id, ENTRIES.c.kind == EntryKind.REDEMPTION_RETURN,
        ENTRIES.c.source_id == str(redemption_id)))
    if returned is None:
        return False
    return _post(session, shop_id, member, -points, EntryKind.REDEMPTION, f"{redemption_id}-used", reason)


def _apply_pending_reversals(session: Session, shop_id: int, order_id: int) -> None:
    record = _lock_order(session, shop_id, order_id)
    pending = session.execute(select(REFUNDS.c.id, REFUNDS.c.refund_id, REFUNDS.c.refunded_subtotal,
                                     REFUNDS.c.lines).where(
        REFUNDS.c.shop_id == shop_id, REFUNDS.c.order_id == order_id, REFUNDS.c.applied.is_(False),
    ).order_by(REFUNDS.c.id)).all()
    for row in pending:
        _apply_refund(session, shop_id, record, row.id, row.refund_id, row.refunded_subtotal,
                      refund_lines_from_json(row.lines))
    if record.cancelled_at is not None:
        taken = _take_back(session, shop_id, record, None, EntryKind.CANCEL_REVERSAL, str(order_id),
                           f"Order {record.name or order_id} cancelled")
        book_reversal(session, shop_id, record, taken, None)


def _apply_refund(session, shop_id, record, refund_row_id, refund_id, subtotal, lines: tuple[RefundLine, ...]) -> int:
    session.execute(update(REFUNDS).where(REFUNDS.c.id == refund_row_id).values(applied=True))
    if record.lines and lines:  # what the refunded lines earned then, whatever the rules are now
        wanted = refund_points(figures_from_json(record.lines), lines, record.rate, record.tier_multiplier or Decimal(1))
    else:  # an order awarded before lines were recorded, or a refund without lines
        wanted = points_for(subtotal * (record.tier_multiplier or Decimal(1)), record.rate)
    taken = _take_back(session, shop_id, record, wanted, EntryKind.REFUND_REVERSAL, str(refund_id),
                       f"Refund on order {record.name or record.order_id}")
    return book_reversal(session, shop_id, record, taken, subtotal)


def _take_back(session, shop_id, record, wanted: int | None, kind: EntryKind, source_id: str, reason: str) -> int:
    """Debit up to `wanted` (None: everything) of what the order still holds.

    What expiry already took from the order's points is not taken again, and points of the
    order that are still pending go first (they were never spendable).
    """
    if record.customer_id is None:
        return 0
    held = session.scalar(select(func.coalesce(func.sum(ENTRIES.c.delta), 0)).where(
        ENTRIES.c.shop_id == shop_id, ENTRIES.c.order_id == record.order_id))
    expired, pending = order_lots(session, shop_id, record.order_id)
    held -= expired
    taken = held if wanted is None else min(wanted, held)
    if taken <= 0:
        return 0
    owner = member_id(session, shop_id, record.customer_id)
    _post(session, shop_id, owner, -taken, kind, source_id, reason, order_id=record.order_id,
          pending=-min(taken, pending))
    return taken


# Credits that open a lot of their own; a redemption's returned points go back to its lots.
_OPENS_LOT = {EntryKind.SIGNUP_BONUS, EntryKind.ADJUSTMENT, EntryKind.REFERRAL, EntryKind.BIRTHDAY_BONUS,
              EntryKind.ORDER_AWARD}


def _post(session: Session, shop_id: int, member: int, delta: int, kind: EntryKind, source_id: str,
          reason: str, order_id: int | None = None, pending: int = 0, earned_at: datetime | None = None,
          pending_until: datetime | None = None, own_lot: int | None = None) -> bool:
    """Write one entry, move the member's totals and lots with it; False if the key was already there.

    `pending` is the part of `delta` that moves the member's pending points instead of the
    balance (a credit still in its pending window, a reversal of one). A debit uses the
    order's lot (`order_id`) or the lot `own_lot` first, then the oldest.
    """
    posted = session.execute(insert_for(session, ENTRIES).values(
        _entry(shop_id, member, delta, kind, source_id, reason, order_id),
    ).on_conflict_do_nothing().returning(ENTRIES.c.id)).first()
    if posted is None:
        return False
    earned = delta if kind.counts_as_earned and delta > 0 else 0
    session.execute(update(MEMBERS).where(MEMBERS.c.id == member).values(
        balance=MEMBERS.c.balance + (delta - pending), pending=MEMBERS.c.pending + pending,
        lifetime_earned=MEMBERS.c.lifetime_earned + earned))
    if delta < 0:
        use_lots(session, member, posted.id, -delta, order_id, own_lot)
    elif kind is EntryKind.REDEMPTION_RETURN:
        spend = session.scalar(select(ENTRIES.c.id).where(
            ENTRIES.c.shop_id == shop_id, ENTRIES.c.kind == EntryKind.REDEMPTION, ENTRIES.c.source_id == source_id))
        return_to_lots(session, member, shop_id, spend, posted.id, delta, utcnow())
    elif kind in _OPENS_LOT:
        open_lots(session, [dict(shop_id=shop_id, member_id=member, entry_id=posted.id, order_id=order_id,
                                 earned_at=earned_at or utcnow(), amount=delta, pending_until=pending_until)])
    return True


def _entry(shop_id: int, member: int, delta: int, kind: EntryKind, source_id: str, reason: str,
           order_id: int | None = None) -> dict:
    return dict(shop_id=shop_id, member_id=member, delta=delta, kind=kind, source_id=source_id,
                order_id=order_id, reason=reason[:500])


def _lock_order(session: Session, shop_id: int, order_id: int):
    return session.execute(select(ORDERS).where(ORDERS.c.shop_id == shop_id, ORDERS.c.order_id == order_id)
                           .with_for_update()).one()


def _lock_or_create_order(session: Session, shop_id: int, order_id: int):
    session.execute(insert_for(session, ORDERS).values(shop_id=shop_id, order_id=order_id).on_conflict_do_nothing())
    return _lock_order(session, shop_id, order_id)


def verify_balances(session: Session) -> list[dict]:
    """Members whose balance plus pending points, or lifetime total, differs from their entries' sums."""
    earned = case((ENTRIES.c.kind.in_([k for k in EntryKind if k.counts_as_earned]) & (ENTRIES.c.delta > 0),
                   ENTRIES.c.delta), else_=0)
    sums = select(ENTRIES.c.member_id, func.sum(ENTRIES.c.delta).label("total"),
                  func.sum(earned).label("earned")).group_by(ENTRIES.c.member_id).subquery()
    rows = session.execute(select(
        MEMBERS.c.shop_id, MEMBERS.c.customer_id, MEMBERS.c.balance, MEMBERS.c.pending, MEMBERS.c.lifetime_earned,
        func.coalesce(sums.c.total, 0).label("total"), func.coalesce(sums.c.earned, 0).label("earned"),
    ).outerjoin(sums, sums.c.member_id == MEMBERS.c.id).where(
        (MEMBERS.c.balance + MEMBERS.c.pending != func.coalesce(sums.c.total, 0))
        | (MEMBERS.c.lifetime_earned != func.coalesce(sums.c.earned, 0))
    )).all()
    return [dict(row._mapping) for row in rows]


def verify_pending(session: Session) -> list[dict]:
    """Members whose pending points differ from what their pending lots still hold."""
    held = select(LOTS.c.member_id, func.sum(LOTS.c.remaining).label("held")).where(
        LOTS.c.pending_until.is_not(None)).group_by(LOTS.c.member_id).subquery()
    rows = session.execute(select(MEMBERS.c.shop_id, MEMBERS.c.customer_id, MEMBERS.c.pending,
                                  func.coalesce(held.c.held, 0).label("held"))
                           .outerjoin(held, held.c.member_id == MEMBERS.c.id)
                           .where(MEMBERS.c.pending != func.coalesce(held.c.held, 0))).all()
    return [dict(row._mapping) for row in rows]


def release_pending(session: Session, now: datetime) -> int:
    """Pending points whose window has closed become spendable, for every shop at once:
    two set-based statements, whatever the number of members. Returns the members released."""
    due = LOTS.c.pending_until <= now
    released = select(func.coalesce(func.sum(LOTS.c.remaining), 0)).where(
        LOTS.c.member_id == MEMBERS.c.id, due).scalar_subquery()
    moved = session.execute(update(MEMBERS).where(MEMBERS.c.id.in_(select(LOTS.c.member_id).where(due)))
                            .values(pending=MEMBERS.c.pending - released, balance=MEMBERS.c.balance + released)
                            .execution_options(synchronize_session=False)).rowcount
    session.execute(update(LOTS).where(due).values(pending_until=None).execution_options(synchronize_session=False))
    return moved


@dataclass(frozen=True)
class Expired:
    """One member's expiry entry, as the tick records its `points_expired` event."""

    member_id: int
    customer_id: int
    source_id: str
    points: int


def expire_lots(session: Session, shop_id: int, earned_before: datetime, now: datetime,
                describe) -> list[Expired]:
    """`fifo`: what is left of every spendable lot earned before `earned_before` expires, in
    one `expiry` entry per member (`describe(first_earned_at, last_earned_at, points)` says
    when the points were earned). Never more than the member's balance: a balance that
    reversals took below its lots does not expire twice."""
    due = (LOTS.c.shop_id == shop_id) & LOTS.c.pending_until.is_(None) & (LOTS.c.remaining > 0) \
        & (LOTS.c.earned_at < earned_before)
    _lock_members(session, select(LOTS.c.member_id).where(due))
    rows = session.execute(select(
        LOTS.c.member_id, MEMBERS.c.customer_id, MEMBERS.c.balance, func.sum(LOTS.c.remaining).label("left"),
        func.min(LOTS.c.earned_at).label("first"), func.max(LOTS.c.earned_at).label("last"),
        newest_entry(LOTS.c.member_id).label("newest"), later_lots(earned_before).label("later"),
    ).join(MEMBERS, MEMBERS.c.id == LOTS.c.member_id).where(due)
        .group_by(LOTS.c.member_id, MEMBERS.c.customer_id, MEMBERS.c.balance)).all()
    # int(): PostgreSQL sums a bigint column as numeric.
    expired = [Expired(row.member_id, row.customer_id, f"fifo:{row.member_id}:{row.newest}",
                       due_points(int(row.left), row.balance, int(row.later))) for row in rows]
    reasons = {e.member_id: describe(row.first, row.last, e.points) for e, row in zip(expired, rows)}
    _post_expiries(session, shop_id, [e for e in expired if e.points > 0], reasons, now)
    _empty_lots(session, due, {e.member_id: int(row.left) - e.points for e, row in zip(expired, rows)})
    return [e for e in expired if e.points > 0]


def newest_entry(member):
    """The member's newest entry id: an expiry's key. Every expiry writes an entry, so the
    next one of the same member has a key of its own. (The newest due lot's id was the key
    once; points a lapsed code returns to an expired lot made that lot due again under the
    same key, and the tick failed on the unique key at every run, for every shop.)"""
    return select(func.max(ENTRIES.c.id)).where(ENTRIES.c.member_id == member).scalar_subquery()


def later_lots(earned_before):
    """A member's spendable points in lots earned at or after `earned_before` (not due yet),
    correlated to the member of the enclosing query's lot row."""
    later = LOTS.alias("later")
    return select(func.coalesce(func.sum(later.c.remaining), 0)).where(
        later.c.member_id == LOTS.c.member_id, later.c.pending_until.is_(None), later.c.remaining > 0,
        later.c.earned_at >= earned_before).scalar_subquery()


def due_points(left: int, balance: int, later: int) -> int:
    """What of `left` due points really expires. Lots hold more than the balance when a
    reversal took points its lots no longer had (a debt: the order's points were spent);
    like any spending, that debt uses up the OLDEST points, so only the part of the balance
    that the lots not due yet (`later`) cannot explain is due. `min(left, balance)` alone
    made a debt paid by old points expire the newest ones at the old points' date."""
    return min(left, max(balance - later, 0))


def expire_inactive(session: Session, shop_id: int, active_before: datetime, now: datetime,
                    reason: str) -> list[Expired]:
    """`inactivity`: members with no earning or redeeming since before `active_before` lose
    their whole positive balance, in one `expiry` entry each."""
    idle = (MEMBERS.c.shop_id == shop_id) & (MEMBERS.c.balance > 0) \
        & (func.coalesce(MEMBERS.c.last_activity_at, MEMBERS.c.created_at) < active_before)
    _lock_members(session, select(MEMBERS.c.id).where(idle))
    newest = select(func.max(ENTRIES.c.id)).where(ENTRIES.c.member_id == MEMBERS.c.id).scalar_subquery()
    rows = session.execute(select(MEMBERS.c.id, MEMBERS.c.customer_id, MEMBERS.c.balance, newest.label("newest"))
                           .where(idle)).all()
    expired = [Expired(row.id, row.customer_id, f"inactive:{row.id}:{row.newest}", row.balance) for row in rows]
    _post_expiries(session, shop_id, expired, {e.member_id: reason.format(points=e.points) for e in expired}, now)
    due = LOTS.c.member_id.in_([e.member_id for e in expired]) & LOTS.c.pending_until.is_(None) \
        & (LOTS.c.remaining > 0)
    held = dict(session.execute(select(LOTS.c.member_id, func.sum(LOTS.c.remaining)).where(due)
                                .group_by(LOTS.c.member_id)).all())
    _empty_lots(session, due, {e.member_id: int(held.get(e.member_id, 0)) - e.points for e in expired})
    return expired


def _empty_lots(session: Session, due, unexpired: dict[int, int]) -> None:
    """Empty the due lots, counting what they held as expired, except `unexpired` points per
    member: what the lots held beyond the member's expiry entry, a debt that the oldest of
    them paid (due_points). Those count as used, not expired, so a refund of their order
    still takes its points back (_take_back does not take again what expiry took). Set-based
    for members whose lots all expired (the usual case), lot by lot for the few others."""
    owing = {member: points for member, points in unexpired.items() if points > 0}
    whole = due if not owing else due & LOTS.c.member_id.not_in(list(owing))
    session.execute(update(LOTS).where(whole).values(expired=LOTS.c.expired + LOTS.c.remaining, remaining=0)
                    .execution_options(synchronize_session=False))
    for member, debt in sorted(owing.items()):
        lots = session.execute(select(LOTS.c.id, LOTS.c.remaining).where(due, LOTS.c.member_id == member)
                               .order_by(LOTS.c.earned_at, LOTS.c.id)).all()
        for lot in lots:
            paid = min(lot.remaining, debt)
            debt -= paid
            session.execute(update(LOTS).where(LOTS.c.id == lot.id).values(
                expired=LOTS.c.expired + lot.remaining - paid, remaining=0).execution_options(synchronize_session=False))


def _lock_members(session: Session, ids) -> None:
    """Lock the members an expiry reads balances from, in id order, so a redemption cannot
    spend between the read and the entry (SQLite's BEGIN IMMEDIATE holds the whole database)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(MEMBERS.c.id).where(MEMBERS.c.id.in_(ids)).order_by(MEMBERS.c.id).with_for_update())


def _post_expiries(session: Session, shop_id: int, expired: list[Expired], reasons: dict[int, str],
                   now: datetime) -> None:
    """The expiry entries (one multi-row insert), then the members' balances from those
    entries (one UPDATE): set-based however many members expire."""
    if not expired:
        return
    ids = session.scalars(insert_for(session, ENTRIES).returning(ENTRIES.c.id), [
        {**_entry(shop_id, e.member_id, -e.points, EntryKind.EXPIRY, e.source_id, reasons[e.member_id]),
         "created_at": now} for e in expired]).all()
    # This insert's entries only (an earlier tick at the same `now` wrote entries with the same
    # time): expiry entries are written by the tick alone, one at a time, so its id range is its own.
    mine = (ENTRIES.c.kind == EntryKind.EXPIRY) & ENTRIES.c.id.between(min(ids), max(ids))
    # Per member through ix_ledger_entries_member (member_id, id): a handful of rows each.
    taken = select(func.sum(ENTRIES.c.delta)).where(ENTRIES.c.member_id == MEMBERS.c.id, mine).scalar_subquery()
    session.execute(update(MEMBERS).where(MEMBERS.c.id.in_(select(ENTRIES.c.member_id).where(mine)))
                    .values(balance=MEMBERS.c.balance + taken).execution_options(synchronize_session=False))
