"""Shops: a lease for the one token refresh in progress, instead of a row lock held through it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 09:50:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column with no default: PostgreSQL adds it without rewriting the table.
    with op.batch_alter_table('shops', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_refresh_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('shops', schema=None) as batch_op:
        batch_op.drop_column('token_refresh_until')
