"""VIP tiers: the tier table, members' tier and paid membership, per-member qualifying totals.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 12:00:00.000000
"""
from collections import defaultdict
from datetime import date, datetime, timezone
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

DECIMAL = sa.Numeric(18, 6).with_variant(sa.String(40), "sqlite")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
POINTS = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        'tiers',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('shop_id', ID, nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('threshold', DECIMAL, nullable=False),
        sa.Column('multiplier', DECIMAL, nullable=False),
        sa.Column('perks', sa.Text(), nullable=False),
        sa.Column('product_id', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('live', sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_tiers_shop_id_shops'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tiers')),
        sa.UniqueConstraint('shop_id', 'threshold', 'live', name='uq_tiers_threshold'),
    )
    op.create_table(
        'member_tier_totals',
        sa.Column('member_id', ID, nullable=False),
        sa.Column('shop_id', ID, nullable=False),
        sa.Column('grain', sa.String(length=8), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('points', POINTS, nullable=False),
        sa.Column('amount_micros', POINTS, nullable=False),
        sa.CheckConstraint("grain IN ('year', 'day')", name=op.f('ck_member_tier_totals_grain_known')),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_tier_totals_member_id_members'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_member_tier_totals_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('member_id', 'grain', 'starts_on', name=op.f('pk_member_tier_totals')),
    )
    op.create_index('ix_member_tier_totals_shop', 'member_tier_totals', ['shop_id', 'grain', 'starts_on'])
    # Plain ALTER TABLE ADD COLUMN on every backend (no foreign keys: on SQLite that would
    # rebuild `members`, and dropping the old table would cascade to the ledger's entries).
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('tier_id', ID, nullable=True))
        batch.add_column(sa.Column('tier_since', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('paid_tier_id', ID, nullable=True))
        batch.add_column(sa.Column('paid_until', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('tier_changes', sa.Integer(), server_default='0', nullable=False))
    op.create_index('ix_members_tier', 'members', ['shop_id', 'tier_id'])
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('tier_day', sa.Date(), nullable=True))
        batch.add_column(sa.Column('tier_amount_micros', POINTS, nullable=True))
    with op.batch_alter_table('programs') as batch:
        batch.add_column(sa.Column('tier_basis', sa.String(length=16), server_default='points_earned',
                                   nullable=False))
        batch.add_column(sa.Column('tier_window', sa.String(length=24), server_default='calendar_year',
                                   nullable=False))
    _count_past_orders(op.get_bind())


# The figures of orders awarded before this migration, so members keep the history their
# tiers are reckoned from: each order on its business day (facts.business_time, else paid_at,
# in the shop's zone), its points as its entries hold them now, its amount as its facts give
# it (subtotal less gift cards) less its applied refunds, nothing once cancelled. Plain SQL
# and the standard library only: a migration must not depend on today's application code.
def _count_past_orders(bind) -> None:
    orders = bind.execute(sa.text(
        "SELECT o.id, o.shop_id, o.order_id, o.facts, o.paid_at, o.created_at, o.cancelled_at, o.earned_points, "
        "m.id AS member_id, "
        "s.iana_timezone FROM orders o JOIN members m ON m.shop_id = o.shop_id AND m.customer_id = o.customer_id "
        "JOIN shops s ON s.id = o.shop_id WHERE o.earned_points IS NOT NULL")).mappings().all()
    if not orders:
        return
    points = {(r.shop_id, r.order_id): int(r.points) for r in bind.execute(sa.text(
        "SELECT shop_id, order_id, SUM(delta) AS points FROM ledger_entries WHERE order_id IS NOT NULL "
        "AND kind IN ('order_award', 'refund_reversal', 'cancel_reversal') GROUP BY shop_id, order_id"))}
    refunded = defaultdict(Decimal)
    for r in bind.execute(sa.text("SELECT shop_id, order_id, refunded_subtotal FROM refunds WHERE applied")):
        refunded[(r.shop_id, r.order_id)] += Decimal(str(r.refunded_subtotal))
    figures, updates = defaultdict(lambda: [0, 0]), []
    for o in orders:
        day = _business_day(o)
        # An order that earned nothing did not count (a test order, an excluded tag).
        amount = 0 if o["cancelled_at"] is not None or not o["earned_points"] else _micros(
            max(_eligible(o["facts"]) - refunded[(o["shop_id"], o["order_id"])], Decimal(0)))
        updates.append({"o_id": o["id"], "day": day, "amount": amount})
        held = points.get((o["shop_id"], o["order_id"]), 0)
        member, shop = o["member_id"], o["shop_id"]
        for key in ((member, shop, 'year', date(day.year, 1, 1)), (member, shop, 'day', day)):
            figures[key][0] += held
            figures[key][1] += amount
    bind.execute(sa.text("UPDATE orders SET tier_day = :day, tier_amount_micros = :amount WHERE id = :o_id"), updates)
    bind.execute(sa.text(
        "INSERT INTO member_tier_totals (member_id, shop_id, grain, starts_on, year, points, amount_micros) "
        "VALUES (:member_id, :shop_id, :grain, :starts_on, :year, :points, :amount)"),
        [{"member_id": m, "shop_id": s, "grain": g, "starts_on": d, "year": d.year, "points": p, "amount": a}
         for (m, s, g, d), (p, a) in figures.items()])


def _business_day(order) -> date:
    facts = _json(order["facts"])
    moment = facts.get("business_time") if facts else None
    moment = datetime.fromisoformat(moment) if moment else _aware(order["paid_at"] or order["created_at"])
    try:
        zone = ZoneInfo(order["iana_timezone"]) if order["iana_timezone"] else timezone.utc
    except (ValueError, ZoneInfoNotFoundError):
        zone = timezone.utc
    return moment.astimezone(zone).date()


def _aware(moment):
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _eligible(facts) -> Decimal:
    facts = _json(facts)
    if not facts:
        return Decimal(0)  # an order from before facts were kept, or redacted: its amount is unknown
    return max(Decimal(facts["subtotal"]) - Decimal(facts.get("gift_card_total") or 0), Decimal(0))


def _json(value):
    import json

    return json.loads(value) if isinstance(value, str) else value


def _micros(amount: Decimal) -> int:
    return int((amount * 1_000_000).to_integral_value(rounding=ROUND_FLOOR))


def downgrade() -> None:
    with op.batch_alter_table('programs') as batch:
        batch.drop_column('tier_window')
        batch.drop_column('tier_basis')
    with op.batch_alter_table('orders') as batch:
        batch.drop_column('tier_amount_micros')
        batch.drop_column('tier_day')
    op.drop_index('ix_members_tier', table_name='members')
    with op.batch_alter_table('members') as batch:
        for column in ('tier_changes', 'paid_until', 'paid_tier_id', 'tier_since', 'tier_id'):
            batch.drop_column(column)
    op.drop_index('ix_member_tier_totals_shop', table_name='member_tier_totals')
    op.drop_table('member_tier_totals')
    op.drop_table('tiers')
