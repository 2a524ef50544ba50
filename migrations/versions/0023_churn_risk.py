"""Churn risk: the member's last order day already told as `member_at_risk`, and an index on
each customer's order days for the recency figures (plugin/loyalty/churn/).

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-07 19:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0023'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('at_risk_order_day', sa.Date(), nullable=True))
    op.create_index('ix_orders_customer_day', 'orders', ['shop_id', 'customer_id', 'tier_day'])


def downgrade() -> None:
    op.drop_index('ix_orders_customer_day', table_name='orders')
    with op.batch_alter_table('members') as batch:
        batch.drop_column('at_risk_order_day')
