"""Points lifecycle: pending points and point lots for expiry, the program's lifecycle settings.

Balances that exist before this revision become one lot per member, dated at the upgrade:
the points they hold get a full expiry period from the day the merchant can first turn
expiry on, never less.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 12:20:00.000000
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
POINTS = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table('programs') as batch:
        batch.add_column(sa.Column('pending_days', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('expiry_policy', sa.String(length=16), server_default='never', nullable=False))
        batch.add_column(sa.Column('expiry_months', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('expiry_reminder_days', sa.Integer(), server_default='14', nullable=False))
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('pending', POINTS, server_default='0', nullable=False))
        batch.add_column(sa.Column('last_activity_at', sa.DateTime(timezone=True), nullable=True))
        batch.create_check_constraint('pending_not_negative', 'pending >= 0')
    op.create_table(
        'point_lots',
        sa.Column('id', ID, nullable=False),
        sa.Column('shop_id', ID, nullable=False),
        sa.Column('member_id', ID, nullable=False),
        sa.Column('entry_id', ID, nullable=True),
        sa.Column('order_id', sa.BigInteger(), nullable=True),
        sa.Column('earned_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('amount', POINTS, nullable=False),
        sa.Column('remaining', POINTS, nullable=False),
        sa.Column('expired', POINTS, nullable=False),
        sa.Column('pending_until', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('remaining >= 0', name=op.f('ck_point_lots_remaining_not_negative')),
        sa.CheckConstraint('expired >= 0', name=op.f('ck_point_lots_expired_not_negative')),
        sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'], name=op.f('fk_point_lots_entry_id_ledger_entries'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_point_lots_member_id_members'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_point_lots_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_point_lots')),
        sa.UniqueConstraint('entry_id', name=op.f('uq_point_lots_entry_id')),
    )
    op.create_index('ix_point_lots_member', 'point_lots', ['member_id', 'earned_at', 'id'])
    op.create_index('ix_point_lots_earned', 'point_lots', ['shop_id', 'earned_at'])
    op.create_index('ix_point_lots_order', 'point_lots', ['shop_id', 'order_id'])
    op.create_index('ix_point_lots_pending', 'point_lots', ['pending_until'])
    op.create_table(
        'point_lot_uses',
        sa.Column('id', ID, nullable=False),
        sa.Column('shop_id', ID, nullable=False),
        sa.Column('lot_id', ID, nullable=False),
        sa.Column('entry_id', ID, nullable=False),
        sa.Column('points', POINTS, nullable=False),
        sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'],
                                name=op.f('fk_point_lot_uses_entry_id_ledger_entries'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['lot_id'], ['point_lots.id'], name=op.f('fk_point_lot_uses_lot_id_point_lots'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_point_lot_uses_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_point_lot_uses')),
    )
    op.create_index('ix_point_lot_uses_entry', 'point_lot_uses', ['entry_id'])
    members = sa.table('members', sa.column('id'), sa.column('shop_id'), sa.column('balance'))
    lots = sa.table('point_lots', sa.column('shop_id'), sa.column('member_id'), sa.column('earned_at'),
                    sa.column('amount'), sa.column('remaining'), sa.column('expired'))
    now = sa.literal(datetime.now(timezone.utc), sa.DateTime(timezone=True))
    op.execute(lots.insert().from_select(
        ['shop_id', 'member_id', 'earned_at', 'amount', 'remaining', 'expired'],
        sa.select(members.c.shop_id, members.c.id, now, members.c.balance, members.c.balance, sa.literal(0))
        .where(members.c.balance > 0)))


def downgrade() -> None:
    op.drop_table('point_lot_uses')
    op.drop_table('point_lots')
    with op.batch_alter_table('members') as batch:
        batch.drop_constraint('pending_not_negative', type_='check')
        batch.drop_column('last_activity_at')
        batch.drop_column('pending')
    with op.batch_alter_table('programs') as batch:
        batch.drop_column('expiry_reminder_days')
        batch.drop_column('expiry_months')
        batch.drop_column('expiry_policy')
        batch.drop_column('pending_days')
