"""Webhook events: when the retention upkeep blanked a processed payload, and an index to find
the next ones without reading those already blanked.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column without a default is added without rewriting the table.
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload_blanked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_webhook_events_retention', ['payload_blanked_at', 'status', 'processed_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_events_retention')
        batch_op.drop_column('payload_blanked_at')
