"""Dashboard figures: orders keep their total and payment time; indexes for per-day sums.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 21:10:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# Money and rates: exact NUMERIC; SQLite has no decimal type, so it keeps them as text.
DECIMAL = sa.Numeric(18, 6).with_variant(sa.String(40), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('total_price', DECIMAL, nullable=True))
        batch_op.add_column(sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_orders_paid', ['shop_id', 'paid_at'], unique=False)

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index('ix_members_created', ['shop_id', 'created_at'], unique=False)

    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.create_index('ix_redemptions_order', ['shop_id', 'order_id'], unique=False)

    # kind and delta ride along so PostgreSQL sums a period from the index alone.
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entries_created', ['shop_id', 'created_at', 'kind', 'delta'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entries_created')

    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.drop_index('ix_redemptions_order')

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index('ix_members_created')

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_paid')
        batch_op.drop_column('paid_at')
        batch_op.drop_column('total_price')
