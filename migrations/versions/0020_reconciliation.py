"""Reconciliation: each shop's runs of reading orders back from the Admin API, and the watermark.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 16:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        'reconciliation_runs',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('shop_id', ID, nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('since', sa.DateTime(timezone=True), nullable=False),
        sa.Column('until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('orders_read', sa.Integer(), nullable=False),
        sa.Column('missed_orders', sa.Integer(), nullable=False),
        sa.Column('refunds', sa.Integer(), nullable=False),
        sa.Column('cancellations', sa.Integer(), nullable=False),
        sa.Column('left', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_reconciliation_runs_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_runs')),
    )
    op.create_index('ix_reconciliation_runs_shop', 'reconciliation_runs', ['shop_id', 'started_at'])


def downgrade() -> None:
    op.drop_index('ix_reconciliation_runs_shop', table_name='reconciliation_runs')
    op.drop_table('reconciliation_runs')
