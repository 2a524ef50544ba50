"""Referral guards: the shopper's address a welcome code was asked from, when its code was
withdrawn, the friend's order's shopper marks, and the shop's segment of customers without
orders (welcome codes' context); the store's collections by title, for the rule editor.

Revision ID: 0030
Revises: 0027
Create Date: 2026-12-07 19:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = '0030'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('referrals', sa.Column('client_address', sa.String(length=45), nullable=True))
    op.add_column('referrals', sa.Column('code_withdrawn_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('referrals', sa.Column('friend_marks', sa.JSON(), nullable=True))
    op.create_index('ix_referrals_shop_day', 'referrals', ['shop_id', 'created_at'])
    op.create_index('ix_referrals_client', 'referrals', ['shop_id', 'client_address', 'created_at'])
    op.add_column('shops', sa.Column('new_customers_segment_id', sa.String(length=255), nullable=True))
    op.create_table(
        'collections',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('shop_id', ID, nullable=False),
        sa.Column('collection_id', sa.BigInteger(), nullable=False),
        sa.Column('title', sa.String(length=255), nullable=False),
        sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_collections_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_collections')),
        sa.UniqueConstraint('shop_id', 'collection_id', name=op.f('uq_collections_shop_id_collection_id')),
    )


def downgrade() -> None:
    op.drop_table('collections')
    with op.batch_alter_table('shops') as batch:
        batch.drop_column('new_customers_segment_id')
    op.drop_index('ix_referrals_client', table_name='referrals')
    op.drop_index('ix_referrals_shop_day', table_name='referrals')
    with op.batch_alter_table('referrals') as batch:
        batch.drop_column('friend_marks')
        batch.drop_column('code_withdrawn_at')
        batch.drop_column('client_address')
