"""The past-orders job: the store's orders of the last N days, read in bulk, previewed, applied.

For each import of kind `orders` (plugin/loyalty/imports/past_orders.py decides what they
do): while `fetching`, the store's bulk operation is started once, polled until finished,
and its JSONL result streamed a PAGE of orders at a time: each order is read with the
`orders/paid` parser (so a past order cannot differ from a webhooked one), its products
looked up when a rule needs them, then priced in a short transaction of its own. While
`applying`, a PAGE of kept orders per transaction is awarded through the paid-order use
case. HTTP never happens inside a transaction, memory holds one page, and a job stopped
half-way is taken up again by the next one (the periodic "past-orders" job): the bulk
operation is not started twice, kept rows are not written twice (their primary key), and
an order earns once whoever applies it.
"""
import logging
import time
from dataclasses import replace

from sqlalchemy import select, update

from plugin.db import reading_session, transaction
from plugin.loyalty.imports import past_orders as use_case
from plugin.loyalty.order_reports import OrderReport
from plugin.loyalty.orders import shop_context
from plugin.models import Import, ImportStatus, Shop
from plugin.shopify.bulk_orders import INCOMPLETE, bulk_status, read_orders, start_orders_export
from plugin.shopify.client import AdminClient, PlatformError
from webhooks.handlers import orders_paid
from webhooks.handlers.payloads import PayloadError
from webhooks.products import look_up_for

log = logging.getLogger(__name__)

PAGE = 200
POLL_SECONDS = 2.0
MAX_POLLS = 150  # five minutes; the periodic job polls again after that
STARTING = "starting"  # bulk_operation_id while one job starts the operation


def run_past_orders() -> int:
    """Every past-orders import that has work; the orders previewed or applied."""
    session = reading_session()
    try:
        pending = session.execute(select(Import.id, Import.status, Shop.domain).join(Shop, Shop.id == Import.shop_id)
                                  .where(Import.kind == "orders", Import.status.in_(
                                      (ImportStatus.FETCHING, ImportStatus.APPLYING))).order_by(Import.id)).all()
    finally:
        session.close()
    done = 0
    for import_id, status, domain in pending:
        try:
            done += (_fetch(import_id, domain) if status is ImportStatus.FETCHING else _apply(import_id, domain))
        except PlatformError as error:
            log.warning("past orders of import %s wait: %s", import_id, error)
    return done


def _fetch(import_id: int, domain: str) -> int:
    found = _load(import_id)
    if found is None or found.status is not ImportStatus.FETCHING:
        return 0
    client = AdminClient(found.shop_id, domain)
    operation = found.bulk_operation_id or _start(client, found)
    if operation is None or operation == STARTING:
        return 0
    status = bulk_status(client, operation)
    for _ in range(MAX_POLLS):
        if status.finished:
            break
        time.sleep(POLL_SECONDS)
        status = bulk_status(client, operation)
    if not status.finished:
        return 0
    if status.status != "COMPLETED":
        with transaction() as session:
            use_case.fail(session, session.get(Import, import_id), f"the store's bulk operation ended "
                          f"{status.status.lower()} ({status.error_code or 'no reason given'})")
        return 0
    return _preview(found, domain, read_orders(status.url))


def _start(client: AdminClient, found: Import) -> str | None:
    """Start the bulk operation, once: the job that claims the import starts it."""
    with transaction() as session:
        claimed = session.execute(update(Import).where(Import.id == found.id, Import.bulk_operation_id.is_(None))
                                  .values(bulk_operation_id=STARTING)).rowcount
    if not claimed:
        return None
    try:
        operation = start_orders_export(client, found.since)
    except PlatformError:
        with transaction() as session:  # let the next run try again
            session.execute(update(Import).where(Import.id == found.id).values(bulk_operation_id=None))
        raise
    with transaction() as session:
        session.execute(update(Import).where(Import.id == found.id).values(bulk_operation_id=operation))
    return operation


def _preview(found: Import, domain: str, payloads) -> int:
    page, row, read = [], 0, 0
    for payload in payloads:
        row += 1
        report = _report(found.id, payload)
        if report is not None:
            page.append((row, report, {k: v for k, v in payload.items() if k != INCOMPLETE}))
        if len(page) == PAGE:
            read += _preview_page(found, domain, page)
            page = []
    read += _preview_page(found, domain, page)
    with transaction() as session:
        use_case.finish_preview(session, session.get(Import, found.id))
    return read


def _report(import_id: int, payload: dict) -> OrderReport | None:
    """A paid order of a customer, read as its `orders/paid` webhook would be; else None."""
    if payload.get(INCOMPLETE):
        log.warning("past order %s of import %s: its refunds cannot be told apart; skipped", payload.get("id"),
                    import_id)
        return None
    try:
        report = orders_paid.parse(payload)
    except PayloadError as error:
        log.warning("past order %s of import %s cannot be read (%s); skipped", payload.get("id"), import_id, error)
        return None
    if not report.paid or report.order.customer_id is None or report.order.test:
        return None
    # No delivery says when it was paid: its own time stands in, as in reconciliation.
    return replace(report, order=replace(report.order, paid_at=report.order.business_time))


def _preview_page(found: Import, domain: str, page: list) -> int:
    if not page:
        return 0
    look_up_for(found.shop_id, domain, [report for _, report, _ in page])  # HTTP, before the transaction
    with transaction() as session:
        imported = session.scalar(select(Import).where(Import.id == found.id).with_for_update())
        if imported.status is not ImportStatus.FETCHING:
            return 0
        use_case.preview_page(session, imported, shop_context(session, domain), page)
    return len(page)


def _apply(import_id: int, domain: str) -> int:
    applied = 0
    while True:
        session = reading_session()
        try:
            rows = use_case.next_rows(session, import_id, PAGE)
            shop_id = session.scalar(select(Import.shop_id).where(Import.id == import_id))
        finally:
            session.close()
        reports = [report for report in (_report(import_id, row.payload) for row in rows) if report is not None]
        if reports:
            look_up_for(shop_id, domain, reports)
        with transaction() as session:
            imported = session.scalar(select(Import).where(Import.id == import_id).with_for_update())
            if not rows:
                use_case.finish_apply(session, imported)
                return applied
            use_case.apply_page(session, imported, shop_context(session, domain), [row.row for row in rows], reports)
        applied += len(rows)


def _load(import_id: int) -> Import | None:
    session = reading_session()
    try:
        found = session.get(Import, import_id)
        if found is not None:
            session.expunge(found)
        return found
    finally:
        session.close()
