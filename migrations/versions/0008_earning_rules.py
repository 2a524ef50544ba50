"""Earning rules, the product cache, and what each order line earned.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 10:20:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

DECIMAL = sa.Numeric(18, 6).with_variant(sa.String(40), "sqlite")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        'earning_rules',
        sa.Column('id', ID, nullable=False),
        sa.Column('shop_id', ID, nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('match_field', sa.String(length=32), nullable=False),
        sa.Column('match_value', sa.String(length=255), nullable=True),
        sa.Column('multiplier', DECIMAL, nullable=True),
        sa.Column('points', sa.Integer(), nullable=True),
        sa.Column('per', sa.String(length=16), nullable=True),
        sa.Column('min_subtotal', DECIMAL, nullable=True),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('multiplier', 'bonus_points')", name=op.f('ck_earning_rules_kind_known')),
        sa.CheckConstraint('points IS NULL OR points > 0', name=op.f('ck_earning_rules_points_positive')),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_earning_rules_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_earning_rules')),
    )
    op.create_index('ix_earning_rules_shop', 'earning_rules', ['shop_id', 'active'], unique=False)
    op.create_table(
        'products',
        sa.Column('id', ID, nullable=False),
        sa.Column('shop_id', ID, nullable=False),
        sa.Column('product_id', sa.BigInteger(), nullable=False),
        sa.Column('product_type', sa.String(length=255), nullable=True),
        sa.Column('vendor', sa.String(length=255), nullable=True),
        sa.Column('tags', sa.JSON(), nullable=False),
        sa.Column('collection_ids', sa.JSON(), nullable=False),
        sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_products_shop_id_shops'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
        sa.UniqueConstraint('shop_id', 'product_id', name=op.f('uq_products_shop_id_product_id')),
    )
    # Nullable columns without defaults: added without rewriting the tables.
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lines', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('tier_multiplier', DECIMAL, nullable=True))
        batch_op.add_column(sa.Column('facts', sa.JSON(), nullable=True))
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lines', sa.JSON(), nullable=True))
    # Not batch mode: on SQLite that would copy the table and lose its append-only trigger.
    op.add_column('ledger_entries', sa.Column('breakdown', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('ledger_entries', 'breakdown')
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_column('lines')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('facts')
        batch_op.drop_column('tier_multiplier')
        batch_op.drop_column('lines')
    op.drop_table('products')
    op.drop_index('ix_earning_rules_shop', table_name='earning_rules')
    op.drop_table('earning_rules')
