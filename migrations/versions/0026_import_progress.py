"""Imports applied by a job: the apply's progress (`rows_done`) and the `applying` status.

`imports.status` is a non-native enum without a CHECK constraint (migration 0021), so the
new `applying` value needs no DDL.

Revision ID: 0026
Revises: 0021
Create Date: 2026-12-07 18:45:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0026'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('imports') as batch:
        batch.add_column(sa.Column('rows_done', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('imports') as batch:
        batch.drop_column('rows_done')
