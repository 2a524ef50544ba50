"""The development platform's records: what `/dev/platform` was sent for the development shop.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 12:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KINDS = ('access_token', 'refresh_token', 'discount_code', 'metafield', 'customer_tags')


def upgrade() -> None:
    op.create_table(
        'dev_platform_records',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('shop_domain', sa.String(length=255), nullable=False),
        sa.Column('kind', sa.Enum(*KINDS, name='devrecordkind', native_enum=False, length=32), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dev_platform_records')),
        sa.UniqueConstraint('shop_domain', 'kind', 'key', name='uq_dev_platform_records_key'),
    )


def downgrade() -> None:
    op.drop_table('dev_platform_records')
