"""Reconciliation: what the webhooks missed, read back from the store and applied.

Webhooks can be missed (SPEC "Orders as the store reports them"). For each installed shop,
`reconcile_shop` asks the Admin API for the orders updated since the shop's watermark
(plugin/shopify/orders.py: paginated, throttle-aware, at most `read_orders`' 60 days back),
reads each one with the `orders/paid` parser and applies it as an `orders/updated` would be
(plugin/loyalty/order_reports.py `order_updated`): a known customer's paid order that never
earned is awarded, refunds and a cancellation the ledger lacks are applied, under their own
ids. A reconciled order and a webhooked one leave the same entries, and a second run
changes nothing.

HTTP calls never happen inside a transaction: each page is fetched, its products looked up
(webhooks/products.py) and then applied in a short transaction of its own. Each run is a
row of `reconciliation_runs` with what it healed; the watermark moves only when a run
applied everything it read (an order still waiting for product facts keeps it back).
"""
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.db import reading_session, transaction, utcnow
from plugin.loyalty.order_reports import Applied, order_updated
from plugin.loyalty.orders import shop_context
from plugin.models import ReconciliationRun, Shop
from plugin.shopify.client import AdminClient, PlatformError
from plugin.shopify.orders import READ_WINDOW, PlatformOrder, orders_updated_since
from webhooks.handlers import orders_paid
from webhooks.handlers.payloads import PayloadError
from webhooks.products import look_up_for

log = logging.getLogger(__name__)

# The next run starts this much before this one did: an order updated while a run was
# reading, or indexed late by the platform, is read again rather than missed.
OVERLAP = timedelta(minutes=5)


@dataclass
class RunReport:
    """One shop's run, as the CLI prints it."""

    domain: str
    since: datetime
    orders_read: int = 0
    missed_orders: int = 0
    refunds: int = 0
    cancellations: int = 0
    left: int = 0  # skipped: unreadable, or more lines or refunds than a page holds
    waiting: int = 0  # for product facts: they keep the watermark back
    error: str | None = None

    def line(self) -> str:
        text = (f"{self.domain}: {self.orders_read} orders updated since {self.since.isoformat()}; healed "
                f"{self.missed_orders} missed orders, {self.refunds} refunds, {self.cancellations} cancellations")
        if self.waiting:
            text += f"; {self.waiting} waiting for product facts (read again next run)"
        if self.left:
            text += f"; {self.left} skipped (see the log)"
        return text + (f"; failed: {self.error}" if self.error else "")


def installed_shops(domain: str | None = None) -> list[tuple[int, str]]:
    session = reading_session()
    try:
        query = select(Shop.id, Shop.domain).where(Shop.access_token.is_not(None), Shop.uninstalled_at.is_(None))
        if domain is not None:
            query = query.where(Shop.domain == domain)
        return [tuple(row) for row in session.execute(query.order_by(Shop.id))]
    finally:
        session.close()


def reconcile_all(domain: str | None = None, since: datetime | None = None) -> list[RunReport]:
    """Every installed shop (or the one named), each on its own: one shop's outage is not the others'."""
    return [reconcile_shop(shop_id, shop_domain, since) for shop_id, shop_domain in installed_shops(domain)]


def reconcile_periodically() -> int:
    """The periodic job (plugin/schedule.py): every installed shop from its watermark."""
    return sum(report.missed_orders + report.refunds + report.cancellations for report in reconcile_all())


def reconcile_shop(shop_id: int, domain: str, since: datetime | None = None) -> RunReport:
    started = utcnow()
    earliest = started - READ_WINDOW
    since = max(since or watermark(shop_id) or earliest, earliest)
    report = RunReport(domain, since)
    try:
        for page in orders_updated_since(AdminClient(shop_id, domain), since):
            _apply_page(shop_id, domain, page, report)
    except PlatformError as error:
        report.error = f"{type(error).__name__}: {error}"[:500]
        log.warning("reconciliation of shop %s stopped: %s", shop_id, report.error)
    _record(shop_id, started, report)
    return report


def recent_runs(session: Session, shop_id: int, limit: int = 20) -> list[ReconciliationRun]:
    """One shop's runs, newest first (the panel's Operations page)."""
    return list(session.scalars(select(ReconciliationRun).where(ReconciliationRun.shop_id == shop_id)
                                .order_by(ReconciliationRun.id.desc()).limit(limit)))


def watermark(shop_id: int) -> datetime | None:
    session = reading_session()
    try:
        return session.scalar(select(func.max(ReconciliationRun.until)).where(ReconciliationRun.shop_id == shop_id))
    finally:
        session.close()


def _apply_page(shop_id: int, domain: str, page: list[PlatformOrder], report: RunReport) -> None:
    reports = []
    for order in page:
        report.orders_read += 1
        if not order.complete:  # never award half an order: a person looks at it
            log.warning("order %s of shop %s has more lines or refunds than reconciliation reads; skipped",
                        order.order_id, shop_id)
            report.left += 1
            continue
        try:
            parsed = orders_paid.parse(order.payload)
        except PayloadError as error:
            log.warning("order %s of shop %s cannot be read (%s); skipped", order.order_id, shop_id, error)
            report.left += 1
            continue
        # No delivery says when it was paid: its own time stands in (the dashboard counts it then).
        reports.append(replace(parsed, order=replace(parsed.order, paid_at=parsed.order.business_time)))
    if not reports:
        return
    look_up_for(shop_id, domain, reports)  # HTTP, before the transaction opens
    with transaction() as session:
        applied = order_updated(session, shop_context(session, domain), reports)
    _count(report, applied)


def _count(report: RunReport, applied: Applied) -> None:
    report.missed_orders += len(applied.awarded)
    report.refunds += len(applied.refunds)
    report.cancellations += len(applied.cancellations)
    report.waiting += len(applied.waiting)


def _record(shop_id: int, started: datetime, report: RunReport) -> None:
    # Orders waiting or an error keep the watermark where it was (until stays NULL).
    complete = report.error is None and not report.waiting
    with transaction() as session:
        session.add(ReconciliationRun(
            shop_id=shop_id, started_at=started, finished_at=utcnow(), since=report.since,
            until=started - OVERLAP if complete else None, orders_read=report.orders_read,
            missed_orders=report.missed_orders, refunds=report.refunds, cancellations=report.cancellations,
            left=report.left + report.waiting, error=report.error))

