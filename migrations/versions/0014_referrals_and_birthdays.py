"""Referrals (members' referral codes, the referrals table) and birthdays; programs' fields for both.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 12:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
POINTS = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DECIMAL = sa.Numeric(18, 6).with_variant(sa.String(40), "sqlite")
STATUSES = ('creating', 'code_issued', 'completed', 'rejected')


def upgrade() -> None:
    op.create_table(
        'referrals',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('shop_id', ID, nullable=False),
        sa.Column('referrer_id', ID, nullable=False),
        sa.Column('friend_email', sa.String(length=320), nullable=False),
        sa.Column('email_key', sa.String(length=320), nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('reward_id', ID, nullable=False),
        sa.Column('discount_id', sa.String(length=255), nullable=True),
        sa.Column('status', sa.Enum(*STATUSES, name='referralstatus', native_enum=False, length=32), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.Column('order_id', sa.BigInteger(), nullable=True),
        sa.Column('friend_customer_id', sa.BigInteger(), nullable=True),
        sa.Column('points', POINTS, nullable=False),
        sa.Column('order_total', DECIMAL, nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reversed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['referrer_id'], ['members.id'], name=op.f('fk_referrals_referrer_id_members'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_referrals_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals')),
        sa.UniqueConstraint('shop_id', 'email_key', name='uq_referrals_email_key'),
        sa.UniqueConstraint('shop_id', 'code', name='uq_referrals_code'),
    )
    op.create_index('ix_referrals_referrer', 'referrals', ['referrer_id', 'created_at'])
    op.create_index('ix_referrals_order', 'referrals', ['shop_id', 'order_id'])
    op.create_index('ix_referrals_shop', 'referrals', ['shop_id', 'id'])
    op.create_index('ix_referrals_friend', 'referrals', ['shop_id', 'friend_customer_id'])
    # Nullable columns (or NOT NULL with a server default) are plain ADD COLUMNs, also on
    # SQLite: no table copy, so nothing that references members is touched.
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('referral_code', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('birthday', sa.String(length=5), nullable=True))
        batch.add_column(sa.Column('birthday_saved_at', sa.DateTime(timezone=True), nullable=True))
    _give_members_referral_codes()
    op.create_index('ix_members_referral_code', 'members', ['shop_id', 'referral_code'], unique=True)
    with op.batch_alter_table('programs') as batch:
        batch.add_column(sa.Column('referral_points', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('referral_reward_id', ID, nullable=True))
        batch.add_column(sa.Column('birthday_bonus', sa.Integer(), nullable=False, server_default='0'))


def _give_members_referral_codes() -> None:
    """Every existing member gets the code new members get when they are created."""
    from plugin.models.members import new_referral_code

    connection = op.get_bind()
    members = sa.table('members', sa.column('id', ID), sa.column('referral_code', sa.String))
    ids = connection.execute(sa.select(members.c.id).where(members.c.referral_code.is_(None))).scalars().all()
    for start in range(0, len(ids), 1000):
        connection.execute(members.update().where(members.c.id == sa.bindparam('member'))
                           .values(referral_code=sa.bindparam('code')),
                           [{'member': member, 'code': new_referral_code()} for member in ids[start:start + 1000]])


def downgrade() -> None:
    with op.batch_alter_table('programs') as batch:
        batch.drop_column('birthday_bonus')
        batch.drop_column('referral_reward_id')
        batch.drop_column('referral_points')
    op.drop_index('ix_members_referral_code', table_name='members')
    with op.batch_alter_table('members') as batch:
        batch.drop_column('birthday_saved_at')
        batch.drop_column('birthday')
        batch.drop_column('referral_code')
    op.drop_index('ix_referrals_friend', table_name='referrals')
    op.drop_index('ix_referrals_shop', table_name='referrals')
    op.drop_index('ix_referrals_order', table_name='referrals')
    op.drop_index('ix_referrals_referrer', table_name='referrals')
    op.drop_table('referrals')
