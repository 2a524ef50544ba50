"""Orders as the store reports them: the order with the refunds and cancellation it carries.

`orders/paid`, `orders/updated` and reconciliation all hand over an `OrderReport`. What it
carries is applied through the same use cases as its own webhooks (plugin/loyalty/orders.py),
under the same ids, so a refund counts once whether it came embedded or on `refunds/create`,
and a reconciled order leaves the same entries as a webhooked one.

`orders/updated` is the noisiest topic a store sends (every fulfilment, note or tag), so
`order_updated` first reads, in at most two light queries, what the ledger already knows of
the orders and their refunds, and touches nothing (no lock, no pricing) for a report that
tells it nothing new. A report that can change nothing (unpaid, no refund, not cancelled)
costs no query at all.
"""
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.loyalty.earning.rules import OrderFacts
from plugin.loyalty.orders import RefundReport, ShopContext, order_cancelled, order_refunded, orders_paid
from plugin.models import OrderRecord, RefundRecord

# `financial_status` of an order whose money was taken (and perhaps given back since).
PAID_STATUSES = frozenset({"paid", "partially_refunded", "refunded"})


@dataclass(frozen=True)
class OrderReport:
    """One order payload: what it earns on, the refunds it carries, whether it is cancelled."""

    order: OrderFacts
    refunds: tuple[RefundReport, ...] = ()
    cancelled_at: datetime | None = None
    financial_status: str | None = None

    @property
    def order_id(self) -> int:
        return self.order.order_id

    @property
    def paid(self) -> bool:
        return self.financial_status in PAID_STATUSES


@dataclass
class Applied:
    """What a batch of reports changed: orders awarded, refunds and cancellations applied,
    and the orders that wait for product facts (nothing of theirs written)."""

    awarded: list[int] = field(default_factory=list)
    refunds: list[int] = field(default_factory=list)
    cancellations: list[int] = field(default_factory=list)
    waiting: set[int] = field(default_factory=set)


def order_paid(session: Session, shop: ShopContext, reports: list[OrderReport]) -> Applied:
    """`orders/paid`: every order is awarded (once), then what it carries is applied."""
    waiting = orders_paid(session, shop, [report.order for report in reports])
    applied = Applied(awarded=[r.order_id for r in reports if r.order_id not in waiting], waiting=waiting)
    return _apply_carried(session, shop, [r for r in reports if r.order_id not in waiting], applied)


def order_updated(session: Session, shop: ShopContext, reports: list[OrderReport]) -> Applied:
    """`orders/updated` and reconciliation: a known customer's paid order that never earned
    is awarded (its `orders/paid` was missed); refunds and a cancellation the ledger does not
    have yet are applied; anything else changes nothing."""
    news = _news(session, shop.id, reports)
    missed = [report for report, unknown in news if _missed(report, unknown)]
    waiting = orders_paid(session, shop, [report.order for report in missed]) if missed else set()
    applied = Applied(awarded=[r.order_id for r in missed if r.order_id not in waiting], waiting=waiting)
    carried = [replace(report, refunds=unknown.refunds, cancelled_at=unknown.cancelled_at)
               for report, unknown in news if report.order_id not in waiting]
    return _apply_carried(session, shop, carried, applied)


@dataclass(frozen=True)
class _Unknown:
    """What of a report the ledger does not have yet."""

    never_earned: bool
    refunds: tuple[RefundReport, ...]
    cancelled_at: datetime | None


def _missed(report: OrderReport, unknown: _Unknown) -> bool:
    return report.paid and report.order.customer_id is not None and unknown.never_earned


def _news(session: Session, shop_id: int, reports: list[OrderReport]) -> list[tuple[OrderReport, _Unknown]]:
    """The reports that tell the ledger something, with what; one query for the orders and
    one for the refunds, and none for reports that could change nothing anyway."""
    worth = [r for r in reports if (r.paid and r.order.customer_id is not None) or r.refunds or r.cancelled_at]
    if not worth:
        return []
    orders = {row.order_id: row for row in session.execute(
        select(OrderRecord.order_id, OrderRecord.earned_points, OrderRecord.cancelled_at).where(
            OrderRecord.shop_id == shop_id, OrderRecord.order_id.in_({r.order_id for r in worth})))}
    refund_ids = {refund.refund_id for r in worth for refund in r.refunds}
    known_refunds = set(session.scalars(select(RefundRecord.refund_id).where(
        RefundRecord.shop_id == shop_id, RefundRecord.refund_id.in_(refund_ids)))) if refund_ids else set()
    news = []
    for report in worth:
        row = orders.get(report.order_id)
        unknown = _Unknown(
            never_earned=row is None or row.earned_points is None,
            refunds=tuple(f for f in report.refunds if f.refund_id not in known_refunds),
            cancelled_at=report.cancelled_at if row is None or row.cancelled_at is None else None)
        if _missed(report, unknown) or unknown.refunds or unknown.cancelled_at:
            news.append((report, unknown))
    return news


def _apply_carried(session: Session, shop: ShopContext, reports: list[OrderReport], applied: Applied) -> Applied:
    """Embedded refunds, then the cancellation, each exactly as its own webhook applies it."""
    for report in reports:
        for refund in report.refunds:
            before = session.scalar(select(RefundRecord.id).where(
                RefundRecord.shop_id == shop.id, RefundRecord.refund_id == refund.refund_id))
            order_refunded(session, shop, refund)
            if before is None:
                applied.refunds.append(refund.refund_id)
        if report.cancelled_at is not None:
            already = session.scalar(select(OrderRecord.cancelled_at).where(
                OrderRecord.shop_id == shop.id, OrderRecord.order_id == report.order_id))
            order_cancelled(session, shop, report.order_id, report.cancelled_at)
            if already is None:
                applied.cancellations.append(report.order_id)
    return applied
