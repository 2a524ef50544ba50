"""Imports applied by a job, and imports of the store's past orders.

The apply's progress (`imports.rows_done`); a past-orders import's window (`since`) and the
store's bulk operation (`bulk_operation_id`); each order kept between the preview and the
apply (`import_rows.payload`); each row's `external_id`, so the database finds one
repeated. `imports.status` is a non-native enum without a CHECK constraint (migration
0021), so the new `applying`, `fetching` and `failed` need no DDL.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 18:45:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('imports') as batch:
        batch.add_column(sa.Column('rows_done', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('since', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('bulk_operation_id', sa.String(length=100), nullable=True))
    with op.batch_alter_table('import_rows') as batch:
        batch.add_column(sa.Column('payload', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('external_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('import_rows') as batch:
        batch.drop_column('external_id')
        batch.drop_column('payload')
    with op.batch_alter_table('imports') as batch:
        batch.drop_column('bulk_operation_id')
        batch.drop_column('since')
        batch.drop_column('rows_done')
