"""Orders in the ledger: a paid order's award, a refund's and a cancellation's reversal.

Each order is one `orders` row whose `earned_points` is set once; each refund one `refunds`
row. A refund or cancellation that arrives before its order waits, recorded, and is applied
when the award happens; a reversal takes at most what the order still holds.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from plugin.db import insert_for, insert_new, utcnow
from plugin.loyalty.bounds import check_member_points, check_order_points
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
from plugin.loyalty.events.flow_triggers import owe_points_earned
from plugin.loyalty.ledger.lots import open_lots, order_lots
from plugin.loyalty.ledger.posting import ENTRIES, MEMBERS, ORDERS, REFUNDS, lock_or_create_order, lock_order, post
from plugin.loyalty.members import email_once_known, member_id
from plugin.loyalty.tiers.ladder import micros
from plugin.loyalty.tiers.ordering import end_cancelled_membership
from plugin.loyalty.tiers.totals import book_orders, book_reversal
from plugin.models import EntryKind


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
    check_order_points(order.order_id, points)
    values = _order_values(order, priced, rules)
    inserted = session.execute(
        insert_for(session, ORDERS).values(shop_id=shop_id, order_id=order.order_id, **values)
        .on_conflict_do_nothing().returning(ORDERS.c.id)
    ).first()
    if inserted is None:
        record = lock_order(session, shop_id, order.order_id)
        if record.earned_points is not None:
            return 0  # already awarded: a duplicate or a second topic for the same order
        session.execute(update(ORDERS).where(ORDERS.c.id == record.id).values(**values))
    if order.customer_id is not None:
        _credit_orders(session, shop_id, [order], {order.order_id: priced}, rules.pending_days)
    if inserted is None:
        _apply_pending_reversals(session, shop_id, order.order_id)
    return points



def award_points_for_orders(session: Session, shop_id: int, orders: list[OrderFacts], rules: ProgramRules,
                            priced: dict[int, Award] | None = None, counted: dict[int, int] | None = None) -> None:
    """Award a batch of paid orders with three statements in all, whatever its size.

    The same rules as `award_points_for_order`, order by order: orders the ledger has not
    seen are inserted, credited and entered together; an order it already knows (a refund
    or cancellation came first, or the same order twice in the batch) takes the one-by-one
    path, which applies what is waiting for it. `counted`: each member's tier amount so far,
    when the caller read it under the members' lock (tiers/ordering.py), so booking need not.
    """
    if not orders:
        return
    firsts: dict[int, OrderFacts] = {}
    for order in orders:
        firsts.setdefault(order.order_id, order)
    priced = {order.order_id: (priced or {}).get(order.order_id) or award(order, rules) for order in firsts.values()}
    for order_id, figures in priced.items():
        check_order_points(order_id, figures.points)
    rows = [dict(shop_id=shop_id, order_id=order.order_id, **_order_values(order, priced[order.order_id], rules))
            for order in firsts.values()]
    new = set(insert_new(session, ORDERS, rows, ORDERS.c.order_id))
    _credit_orders(session, shop_id, [o for o in firsts.values() if o.order_id in new and o.customer_id], priced,
                   rules.pending_days, counted)
    for order in orders:
        if order.order_id not in new or firsts[order.order_id] is not order:
            award_points_for_order(session, shop_id, order, rules, priced[order.order_id])



def _order_values(order: OrderFacts, priced: Award, rules: ProgramRules) -> dict:
    return dict(name=order.name, customer_id=order.customer_id, earned_points=priced.points,
                rate=rules.points_per_currency_unit, total_price=order.total_price,
                paid_at=order.paid_at or utcnow(), lines=figures_json(priced.lines),
                tier_multiplier=priced.tier_multiplier, facts=order_facts_json(order),
                tier_day=order.business_day, tier_amount_micros=micros(priced.eligible),
                lines_subtotal=order.lines_subtotal)



def _credit_orders(session: Session, shop_id: int, orders: list[OrderFacts], priced: dict[int, Award],
                   pending_days: int, counted: dict[int, int] | None = None) -> None:
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
    book_orders(session, shop_id, orders, priced, owners, counted)



def _enter_awards(session: Session, shop_id: int, credited: list[OrderFacts], priced: dict[int, Award],
                  owners: dict[int, int], pending_until: dict[int, datetime | None]) -> None:
    """The award entries (one multi-row insert) and their lots (another)."""
    entries = [dict(shop_id=shop_id, member_id=owners[order.customer_id], delta=priced[order.order_id].points,
                    kind=EntryKind.ORDER_AWARD, source_id=str(order.order_id), order_id=order.order_id,
                    reason=f"Order {order.name or order.order_id} paid",
                    breakdown=breakdown_json(priced[order.order_id]))
               for order in credited]
    posted = {row.order_id: row for row in session.execute(
        insert_for(session, ENTRIES).returning(ENTRIES.c.order_id, ENTRIES.c.id, ENTRIES.c.created_at), entries)}
    open_lots(session, [dict(shop_id=shop_id, member_id=owners[order.customer_id], entry_id=posted[order.order_id].id,
                             credited_at=posted[order.order_id].created_at,
                             order_id=order.order_id, earned_at=business_time(order),
                             amount=priced[order.order_id].points, pending_until=pending_until[order.order_id])
                        for order in credited])
    owe_points_earned(session, shop_id, [(order.customer_id, order.order_id, priced[order.order_id].points)
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
    }).returning(MEMBERS.c.customer_id, MEMBERS.c.id, MEMBERS.c.lifetime_earned)
    credited = session.execute(stmt, rows).all()
    for row in credited:  # plugin/loyalty/bounds.py: why checking after the credit cannot overflow
        check_member_points(row.lifetime_earned)
    return {row.customer_id: row.id for row in credited}



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
    record = lock_or_create_order(session, shop_id, refund.order_id)
    if record.earned_points is None:
        return 0
    return _apply_refund(session, shop_id, record, inserted.id, refund.refund_id, refund.refunded_subtotal,
                         refund.lines)



def reverse_order_award(session: Session, shop_id: int, order_id: int, cancelled_at: datetime) -> int:
    """A cancelled order gives back whatever it still holds; returns the points taken now."""
    record = lock_or_create_order(session, shop_id, order_id)
    if record.cancelled_at is not None:
        return 0
    session.execute(update(ORDERS).where(ORDERS.c.id == record.id).values(cancelled_at=cancelled_at))
    if record.earned_points is None:
        return 0
    taken = _take_back(session, shop_id, record, None, EntryKind.CANCEL_REVERSAL, str(order_id),
                       f"Order {record.name or order_id} cancelled")
    end_cancelled_membership(session, shop_id, record)
    return book_reversal(session, shop_id, record, taken, None)



def _apply_pending_reversals(session: Session, shop_id: int, order_id: int) -> None:
    record = lock_order(session, shop_id, order_id)
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
    post(session, shop_id, owner, -taken, kind, source_id, reason, order_id=record.order_id,
          pending=-min(taken, pending))
    return taken
