"""Points liability: when each lot's pending points began and were released, and lot uses by lot.

The liability statement (plugin/loyalty/analytics/liability.py) says how many points were
still pending at the end of each past day. A lot's `pending_until` is cleared when the tick
releases it, so `released_at` keeps that moment; `credited_at` is when its entry was posted,
on the lot itself so the statement need not look up each lot's entry. Lots released before
this upgrade have no release time: their window is not knowable any more, and the statement
counts them as spendable from the start; lots pending now get their entry's time. The two
indexes let the statement read only the lots pending during its period and their uses.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 15:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('point_lots') as batch:
        batch.add_column(sa.Column('released_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('credited_at', sa.DateTime(timezone=True), nullable=True))
    # Lots pending now started pending when their entry was posted.
    op.execute("UPDATE point_lots SET credited_at = (SELECT created_at FROM ledger_entries "
               "WHERE ledger_entries.id = point_lots.entry_id) WHERE pending_until IS NOT NULL")
    op.create_index('ix_point_lots_released', 'point_lots', ['shop_id', 'released_at'])
    op.create_index('ix_point_lot_uses_lot', 'point_lot_uses', ['lot_id'])


def downgrade() -> None:
    op.drop_index('ix_point_lot_uses_lot', table_name='point_lot_uses')
    op.drop_index('ix_point_lots_released', table_name='point_lots')
    with op.batch_alter_table('point_lots') as batch:
        batch.drop_column('credited_at')
        batch.drop_column('released_at')
