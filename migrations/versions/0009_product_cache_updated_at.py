"""The product cache: the platform's updated_at of the facts held (out-of-order webhooks must
not overwrite newer facts), and when its collections were last read (webhooks do not carry them).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns without defaults: added without rewriting the table.
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('collections_fetched_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_column('collections_fetched_at')
        batch_op.drop_column('updated_at')
