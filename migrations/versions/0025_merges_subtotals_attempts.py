"""Customer merges, orders whose subtotal disagrees with their lines, every delivery attempt.

- `members.merged_into_id`, `merged_at`: customers/merge folds one member into another.
  The ledger's new entry kinds (`merge_out`, `merge_in`) need no DDL (see migration 0021).
- `orders.lines_subtotal`: what the lines say, kept when it disagrees with `subtotal_price`.
- `event_delivery_attempts`: each try of an event delivery, not only the last.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 18:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DECIMAL = sa.Numeric(18, 6).with_variant(sa.String(40), "sqlite")


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN (as in 0016): rebuilding `members` on SQLite would lose its
    # store-sync triggers and cascade to the ledger's entries.
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('merged_into_id', ID, nullable=True))
        batch.add_column(sa.Column('merged_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_members_merged_into', 'members', ['merged_into_id'])

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lines_subtotal', DECIMAL, nullable=True))

    op.create_table(
        'event_delivery_attempts',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('shop_id', ID, nullable=False),
        sa.Column('delivery_id', ID, nullable=False),
        sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('response_status', sa.Integer(), nullable=True),
        sa.Column('error', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['delivery_id'], ['event_deliveries.id'],
                                name=op.f('fk_event_delivery_attempts_delivery_id_event_deliveries'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_event_delivery_attempts_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_event_delivery_attempts')),
    )
    op.create_index('ix_event_delivery_attempts_delivery', 'event_delivery_attempts', ['delivery_id', 'id'])


def downgrade() -> None:
    op.drop_index('ix_event_delivery_attempts_delivery', table_name='event_delivery_attempts')
    op.drop_table('event_delivery_attempts')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('lines_subtotal')
    op.drop_index('ix_members_merged_into', table_name='members')
    with op.batch_alter_table('members') as batch:
        batch.drop_column('merged_at')
        batch.drop_column('merged_into_id')
