"""VIP tiers: the tier table, members' tier and paid membership, per-member qualifying totals.

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-29 12:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0011'
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
