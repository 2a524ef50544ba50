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
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from plugin.db import insert_for, utcnow
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
from plugin.loyalty.members import email_once_known, member_id
from plugin.loyalty.tiers.ladder import micros
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
        _credit_orders(session, shop_id, [order], {order.order_id: priced})
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
    # Executed with a list of rows: SQLAlchemy batches it into multi-row statements it compiles
    # once ("insertmanyvalues"), where .values(rows) would compile a new statement every time.
    new = set(session.scalars(insert_for(session, ORDERS).on_conflict_do_nothing().returning(ORDERS.c.order_id),
                              rows))
    _credit_orders(session, shop_id, [o for o in firsts.values() if o.order_id in new and o.customer_id], priced)
    for order in orders:
        if order.order_id not in new or firsts[order.order_id] is not order:
            award_points_for_order(session, shop_id, order, rules, priced[order.order_id])


def _order_values(order: OrderFacts, priced: Award, rules: ProgramRules) -> dict:
    return dict(name=order.name, customer_id=order.customer_id, earned_points=priced.points,
                rate=rules.points_per_currency_unit, total_price=order.total_price,
                paid_at=order.paid_at or utcnow(), lines=figures_json(priced.lines),
                tier_multiplier=priced.tier_multiplier, facts=order_facts_json(order),
                tier_day=order.business_day, tier_amount_micros=micros(priced.eligible))


def _credit_orders(session: Session, shop_id: int, orders: list[OrderFacts], priced: dict[int, Award]) -> None:
    """Create the orders' members and credit them: one upsert and one multi-row insert."""
    if not orders:
        return
    accounts: dict[int, tuple[str | None, int]] = {}
    for order in orders:
        email, credit = accounts.get(order.customer_id, (None, 0))
        accounts[order.customer_id] = (email or order.email, credit + priced[order.order_id].points)
    owners = _create_and_credit_members(session, shop_id, accounts)
    entries = [dict(shop_id=shop_id, member_id=owners[order.customer_id], delta=priced[order.order_id].points,
                    kind=EntryKind.ORDER_AWARD, source_id=str(order.order_id), order_id=order.order_id,
                    reason=f"Order {order.name or order.order_id} paid",
                    breakdown=breakdown_json(priced[order.order_id]))
               for order in orders if priced[order.order_id].points]
    if entries:
        session.execute(insert_for(session, ENTRIES), entries)
    book_orders(session, shop_id, orders, priced, owners)


def _create_and_credit_members(session: Session, shop_id: int,
                               accounts: dict[int, tuple[str | None, int]]) -> dict[int, int]:
    """Member ids by customer id, creating members and adding earned credits in one statement.

    `accounts` maps customer id -> (email from the order, points earned); the caller writes
    the entries that explain the credits in the same transaction. Rows go in customer-id
    order, so concurrent batches lock the members they share in the same order.
    """
    rows = [dict(shop_id=shop_id, customer_id=customer, email=email, balance=credit, lifetime_earned=credit)
            for customer, (email, credit) in sorted(accounts.items())]
    stmt = insert_for(session, MEMBERS)
    stmt = stmt.on_conflict_do_update(index_elements=["shop_id", "customer_id"], set_={
        "email": email_once_known(stmt),
        "balance": MEMBERS.c.balance + stmt.excluded.balance,
        "lifetime_earned": MEMBERS.c.lifetime_earned + stmt.excluded.lifetime_earned,
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
    return book_reversal(session, shop_id, record, taken, None)


def grant_signup_bonus(session: Session, shop_id: int, member: int, customer_id: int, points: int) -> int:
    """The one-time bonus for joining; a second customers/create grants nothing."""
    if points <= 0:
        return 0
    posted = _post(session, shop_id, member, points, EntryKind.SIGNUP_BONUS, str(customer_id),
                   "Signup bonus")
    return points if posted else 0


def adjust_points(session: Session, shop_id: int, member: int, points: int, reason: str) -> int:
    """A merchant's manual change, either way; returns the new entry's id."""
    if points == 0:
        raise ValueError("an adjustment must move points")
    source_id = uuid.uuid4().hex
    _post(session, shop_id, member, points, EntryKind.ADJUSTMENT, source_id, reason)
    return session.scalar(select(ENTRIES.c.id).where(
        ENTRIES.c.shop_id == shop_id, ENTRIES.c.kind == EntryKind.ADJUSTMENT, ENTRIES.c.source_id == source_id))


class InsufficientPoints(Exception):
    """A spend the balance cannot cover; nothing was written, but the caller must roll back."""


def spend_points(session: Session, shop_id: int, member: int, redemption_id: int, points: int, reason: str) -> None:
    """Take a redemption's cost, or raise InsufficientPoints and take nothing.

    The database decides, not the caller's earlier read: the balance moves only through
    `balance >= points` in the UPDATE's own WHERE, so two spends that both read enough
    cannot both succeed, on any backend and whatever locks the caller took.
    """
    if points <= 0:
        raise ValueError("a spend must take points")
    debited = session.execute(update(MEMBERS).where(MEMBERS.c.id == member, MEMBERS.c.balance >= points)
                              .values(balance=MEMBERS.c.balance - points)).rowcount
    if debited != 1:
        balance = session.scalar(select(MEMBERS.c.balance).where(MEMBERS.c.id == member))
        raise InsufficientPoints(f"the balance is {balance}")
    # A plain INSERT: a second spend for the same redemption is a bug, and must fail loudly.
    session.execute(insert_for(session, ENTRIES).values(_entry(shop_id, member, -points, EntryKind.REDEMPTION,
                                                                str(redemption_id), reason)))


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
    """Debit up to `wanted` (None: everything) of what the order still holds."""
    if record.customer_id is None:
        return 0
    held = session.scalar(select(func.coalesce(func.sum(ENTRIES.c.delta), 0)).where(
        ENTRIES.c.shop_id == shop_id, ENTRIES.c.order_id == record.order_id))
    taken = held if wanted is None else min(wanted, held)
    if taken <= 0:
        return 0
    owner = member_id(session, shop_id, record.customer_id)
    _post(session, shop_id, owner, -taken, kind, source_id, reason, order_id=record.order_id)
    return taken


def _post(session: Session, shop_id: int, member: int, delta: int, kind: EntryKind, source_id: str,
          reason: str, order_id: int | None = None) -> bool:
    """Write one entry and move the member's totals with it; False if the key was already there."""
    posted = session.execute(insert_for(session, ENTRIES).values(
        _entry(shop_id, member, delta, kind, source_id, reason, order_id),
    ).on_conflict_do_nothing().returning(ENTRIES.c.id)).first()
    if posted is None:
        return False
    earned = delta if kind.counts_as_earned and delta > 0 else 0
    session.execute(update(MEMBERS).where(MEMBERS.c.id == member).values(
        balance=MEMBERS.c.balance + delta, lifetime_earned=MEMBERS.c.lifetime_earned + earned))
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
    """Members whose stored balance or lifetime total differs from their entries' sums."""
    earned = case((ENTRIES.c.kind.in_([k for k in EntryKind if k.counts_as_earned]) & (ENTRIES.c.delta > 0),
                   ENTRIES.c.delta), else_=0)
    sums = select(ENTRIES.c.member_id, func.sum(ENTRIES.c.delta).label("total"),
                  func.sum(earned).label("earned")).group_by(ENTRIES.c.member_id).subquery()
    rows = session.execute(select(
        MEMBERS.c.shop_id, MEMBERS.c.customer_id, MEMBERS.c.balance, MEMBERS.c.lifetime_earned,
        func.coalesce(sums.c.total, 0).label("total"), func.coalesce(sums.c.earned, 0).label("earned"),
    ).outerjoin(sums, sums.c.member_id == MEMBERS.c.id).where(
        (MEMBERS.c.balance != func.coalesce(sums.c.total, 0))
        | (MEMBERS.c.lifetime_earned != func.coalesce(sums.c.earned, 0))
    )).all()
    return [dict(row._mapping) for row in rows]
