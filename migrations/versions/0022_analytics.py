"""Analytics by business day: orders read by their own day, codes by when they were issued.

`ix_orders_business_day` serves program performance and cohorts (plugin/loyalty/analytics),
which read a period's paid orders by `tier_day`, the order's own day in the shop's zone; on
PostgreSQL it carries the columns they sum, so the orders are read from the index alone.
`ix_redemptions_issued` serves the reward usage rate. Paid orders stored before their
business day was kept (none since 0016, which filled the older ones) get the day they were
paid, in their shop's zone.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 18:45:00.000000
"""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

COVERED = ['customer_id', 'total_price', 'earned_points', 'paid_at', 'cancelled_at']


def upgrade() -> None:
    op.create_index('ix_orders_business_day', 'orders', ['shop_id', 'tier_day'], postgresql_include=COVERED)
    op.create_index('ix_redemptions_issued', 'redemptions', ['shop_id', 'issued_at'])
    _fill_business_days(op.get_bind())


def downgrade() -> None:
    op.drop_index('ix_redemptions_issued', table_name='redemptions')
    op.drop_index('ix_orders_business_day', table_name='orders')


def _fill_business_days(bind) -> None:
    rows = bind.execute(sa.text(
        "SELECT orders.id, orders.paid_at, shops.iana_timezone FROM orders JOIN shops ON shops.id = orders.shop_id "
        "WHERE orders.tier_day IS NULL AND orders.paid_at IS NOT NULL")).all()
    updates = [{"o_id": row.id, "day": _local(row.paid_at, row.iana_timezone)} for row in rows]
    if updates:
        bind.execute(sa.text("UPDATE orders SET tier_day = :day WHERE id = :o_id"), updates)


def _local(moment, zone_name):
    if isinstance(moment, str):  # SQLite's text
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        zone = ZoneInfo(zone_name) if zone_name else timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        zone = timezone.utc
    return moment.astimezone(zone).date()
