"""Churn risk: the member's last order day already told as `member_at_risk`, the day each shop
was last checked for crossings, and an index on each customer's order days for the recency
figures (plugin/loyalty/churn/).

A subscription made with every kind (its `kinds` left out) stored the kinds there were then;
those that hold all six earlier kinds get `member_at_risk` too, as they would if made today.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 19:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

EARLIER_KINDS = {'tier_changed', 'points_expiring', 'points_expired', 'referral_completed', 'birthday_bonus',
                 'reward_issued'}
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SUBSCRIPTIONS = sa.table('event_subscriptions', sa.column('id', sa.BigInteger()), sa.column('kinds', sa.JSON()))


def upgrade() -> None:
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('at_risk_order_day', sa.Date(), nullable=True))
    op.create_index('ix_orders_customer_day', 'orders', ['shop_id', 'customer_id', 'tier_day', 'cancelled_at'])
    op.create_table(
        'churn_checks',
        sa.Column('shop_id', ID, autoincrement=False, nullable=False),
        sa.Column('checked_on', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_churn_checks_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('shop_id', name=op.f('pk_churn_checks')),
    )
    bind = op.get_bind()
    for row in bind.execute(sa.select(SUBSCRIPTIONS.c.id, SUBSCRIPTIONS.c.kinds)).all():
        if EARLIER_KINDS <= set(row.kinds) and 'member_at_risk' not in row.kinds:
            bind.execute(SUBSCRIPTIONS.update().where(SUBSCRIPTIONS.c.id == row.id)
                         .values(kinds=[*row.kinds, 'member_at_risk']))


def downgrade() -> None:
    # The older code knows no `member_at_risk`: its events (their deliveries cascade) and the
    # kind in subscriptions go, or reading them back would fail.
    bind = op.get_bind()
    bind.execute(sa.text("DELETE FROM member_events WHERE kind = 'member_at_risk'"))
    for row in bind.execute(sa.select(SUBSCRIPTIONS.c.id, SUBSCRIPTIONS.c.kinds)).all():
        if 'member_at_risk' in row.kinds:
            kept = [kind for kind in row.kinds if kind != 'member_at_risk']
            where = SUBSCRIPTIONS.c.id == row.id  # one that wanted nothing else wants nothing now
            bind.execute(SUBSCRIPTIONS.update().where(where).values(kinds=kept) if kept
                         else SUBSCRIPTIONS.delete().where(where))
    op.drop_table('churn_checks')
    op.drop_index('ix_orders_customer_day', table_name='orders')
    with op.batch_alter_table('members') as batch:
        batch.drop_column('at_risk_order_day')
