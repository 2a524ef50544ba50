"""Member events (tier changes, expiry reminders, referrals, birthdays, rewards issued), and the shop's time zone.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 11:50:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KINDS = ('tier_changed', 'points_expiring', 'points_expired', 'referral_completed', 'birthday_bonus',
         'reward_issued')


def upgrade() -> None:
    op.create_table(
        'member_events',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('shop_id', ID, nullable=False),
        sa.Column('member_id', ID, nullable=False),
        sa.Column('customer_id', sa.BigInteger(), nullable=False),
        sa.Column('kind', sa.Enum(*KINDS, name='membereventkind', native_enum=False, length=32), nullable=False),
        sa.Column('key', sa.String(length=128), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_events_member_id_members'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_member_events_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_member_events')),
        sa.UniqueConstraint('shop_id', 'kind', 'key', name='uq_member_events_key'),
    )
    op.create_index('ix_member_events_shop', 'member_events', ['shop_id', 'id'])
    op.create_index('ix_member_events_member', 'member_events', ['member_id', 'id'])
    with op.batch_alter_table('shops') as batch:
        batch.add_column(sa.Column('iana_timezone', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('shops') as batch:
        batch.drop_column('iana_timezone')
    op.drop_table('member_events')
