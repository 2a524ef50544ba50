"""Reward kinds beyond codes (store credit, a free product) and tier perks that apply themselves.

`rewards.kind` is a non-native enum without a CHECK constraint (migration 0003), so the new
kinds `store_credit` and `free_product` need no DDL; a free product names its product. A
store-credit redemption records its intent (amount, currency, expiry) and what the platform
said; a tier names its perk reward and the segment and automatic discount that carry it.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 18:45:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DECIMAL = sa.Numeric(18, 6).with_variant(sa.String(40), "sqlite")
CREDIT_COLUMNS = ('credit_transaction_id', 'credit_sent_at', 'credit_expires_at', 'credit_currency', 'credit_amount')
PERK_COLUMNS = ('perk_next_attempt_at', 'perk_attempts', 'perk_error', 'perk_state', 'perk_discount_kind',
                'perk_discount_id', 'perk_segment_id', 'perk_reward_id')


def upgrade() -> None:
    with op.batch_alter_table('rewards') as batch:
        batch.add_column(sa.Column('product_id', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('redemptions') as batch:
        batch.add_column(sa.Column('credit_amount', DECIMAL, nullable=True))
        batch.add_column(sa.Column('credit_currency', sa.String(length=3), nullable=True))
        batch.add_column(sa.Column('credit_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('credit_sent_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('credit_transaction_id', sa.String(length=255), nullable=True))
        batch.create_unique_constraint('uq_redemptions_credit_transaction', ['shop_id', 'credit_transaction_id'])
    with op.batch_alter_table('tiers') as batch:
        batch.add_column(sa.Column('perk_reward_id', ID, nullable=True))
        batch.add_column(sa.Column('perk_segment_id', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('perk_discount_id', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('perk_discount_kind', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('perk_state', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('perk_error', sa.Text(), nullable=True))
        batch.add_column(sa.Column('perk_attempts', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('perk_next_attempt_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tiers') as batch:
        for column in PERK_COLUMNS:
            batch.drop_column(column)
    with op.batch_alter_table('redemptions') as batch:
        batch.drop_constraint('uq_redemptions_credit_transaction', type_='unique')
        for column in CREDIT_COLUMNS:
            batch.drop_column(column)
    with op.batch_alter_table('rewards') as batch:
        batch.drop_column('product_id')
