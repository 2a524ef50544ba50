"""Start from the store's past: points for the orders of the last N days (SPEC "imports").

An import of kind `orders` (format `store`) goes: `fetching` (the store's bulk operation
runs, then each page of its orders is previewed), `previewed` (members, points; nothing
moved), `applying` (a batch of orders per transaction), `applied`. The edge reads the
store and parses the orders (webhooks/past_orders.py); this module decides.

The preview prices each page of orders by the current program exactly as the apply will:
the page goes through `order_paid` (the paid-order use case of the order webhooks) inside
a savepoint that is rolled back, and what the ledger would have gained per order is kept
with the order (`import_rows`); an order that earns nothing (already awarded by its
webhook, excluded by a rule, a guest's) is not kept. The apply runs the same `order_paid`
for real, with each order's own business time; since an order earns once whatever reports
it, a webhook for the same order before or after changes nothing twice.
`read_orders` reaches the last 60 days; more needs the `read_all_orders` scope.
"""
from datetime import datetime, time, timedelta

from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session

from plugin.db import insert_for, utcnow
from plugin.loyalty.fields import InvalidFields
from plugin.loyalty.order_reports import OrderReport, order_paid
from plugin.loyalty.orders import ShopContext
from plugin.loyalty.shop_facts import business_zone
from plugin.models import Import, ImportRow, ImportStatus, LedgerEntry, Member, Shop

ROWS = ImportRow.__table__
READ_ORDERS_DAYS = 60
ALL_ORDERS_DAYS = 3650
ALL_ORDERS_SCOPE = "read_all_orders"


def max_days(shop: Shop) -> int:
    scopes = {scope.strip() for scope in (shop.scopes or "").split(",")}
    return ALL_ORDERS_DAYS if ALL_ORDERS_SCOPE in scopes else READ_ORDERS_DAYS


def start_past_orders(session: Session, shop: Shop, days) -> Import:
    """A `fetching` import of the orders processed since the start of the shop's day N days
    ago (the days as a whole number); InvalidFields for a bad N. The caller asks for the job."""
    limit = max_days(shop)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= limit:
        more = "" if limit > READ_ORDERS_DAYS else f" (more needs the {ALL_ORDERS_SCOPE} scope)"
        raise InvalidFields({"days": f"must be a whole number of days from 1 to {limit}{more}"})
    zone = business_zone(shop.iana_timezone)
    today = utcnow().astimezone(zone).date()
    since = datetime.combine(today - timedelta(days=days), time(), zone).astimezone(utcnow().tzinfo)
    imported = Import(shop_id=shop.id, kind="orders", format="store", status=ImportStatus.FETCHING,
                      digest=f"orders:{since.isoformat()}", since=since, rows=0, rows_done=0, members_matched=0,
                      members_new=0, points_total=0, errors=[], errors_total=0)
    session.add(imported)
    session.flush()
    return imported


def preview_page(session: Session, imported: Import, shop: ShopContext, reports: list[tuple[int, OrderReport, dict]]
                 ) -> int:
    """Price one page of (row, order, payload) and keep the orders that would earn; the
    points they would earn. Nothing of the dry run stays."""
    last = session.scalar(select(func.coalesce(func.max(LedgerEntry.id), 0)).where(LedgerEntry.shop_id == shop.id))
    with session.begin_nested() as dry_run:
        order_paid(session, shop, [report for _, report, _ in reports])
        earned = dict(session.execute(select(LedgerEntry.order_id, func.sum(LedgerEntry.delta)).where(
            LedgerEntry.shop_id == shop.id, LedgerEntry.id > last,
            LedgerEntry.order_id.in_([report.order_id for _, report, _ in reports]))
            .group_by(LedgerEntry.order_id)).all())
        dry_run.rollback()
    kept = [dict(import_id=imported.id, shop_id=shop.id, row=row, customer_id=report.order.customer_id,
                 email=None, points=int(earned[report.order_id]), earned_at=report.order.business_time,
                 reason=(report.order.name or str(report.order_id))[:500], payload=payload)
            for row, report, payload in reports if earned.get(report.order_id, 0) > 0]
    if kept:
        session.execute(insert_for(session, ROWS), kept)
    return sum(row["points"] for row in kept)


def finish_preview(session: Session, imported: Import) -> None:
    """Count what the kept orders give: rows, members already and not yet members, points."""
    rows = select(ROWS.c.customer_id, ROWS.c.points).where(ROWS.c.import_id == imported.id).subquery()
    imported.rows, imported.points_total = session.execute(
        select(func.count(), func.coalesce(func.sum(rows.c.points), 0)).select_from(rows)).one()
    customers = select(ROWS.c.customer_id).where(ROWS.c.import_id == imported.id).distinct().subquery()
    total, known = session.execute(select(func.count(), func.count(Member.id)).select_from(customers).outerjoin(
        Member, and_(Member.shop_id == imported.shop_id, Member.customer_id == customers.c.customer_id))).one()
    imported.members_matched, imported.members_new = known, total - known
    imported.status = ImportStatus.PREVIEWED
    session.flush()


def fail(session: Session, imported: Import, message: str) -> None:
    imported.status, imported.errors, imported.errors_total = ImportStatus.FAILED, [
        {"row": None, "field": None, "message": message[:500]}], 1
    session.flush()


def next_rows(session: Session, import_id: int, limit: int) -> list:
    """The next orders to apply, in the order the store wrote them."""
    return session.execute(select(ROWS.c.row, ROWS.c.payload).where(ROWS.c.import_id == import_id)
                           .order_by(ROWS.c.row).limit(limit)).all()


def apply_page(session: Session, imported: Import, shop: ShopContext, rows: list[int],
               reports: list[OrderReport]) -> None:
    """Award one page of orders as `orders/paid` would (the caller locked the import); the
    rows go with them. A page left unfinished by a crash was rolled back whole."""
    if imported.status is not ImportStatus.APPLYING:
        return
    order_paid(session, shop, reports)
    done = session.execute(delete(ROWS).where(ROWS.c.import_id == imported.id, ROWS.c.row.in_(rows))).rowcount
    imported.rows_done += done
    session.flush()


def finish_apply(session: Session, imported: Import) -> bool:
    """Applied once no row is left; False while some are."""
    left = session.scalar(select(func.count()).select_from(ROWS).where(ROWS.c.import_id == imported.id))
    if left or imported.status is not ImportStatus.APPLYING:
        return False
    imported.status, imported.applied_at = ImportStatus.APPLIED, utcnow()
    session.flush()
    return True
