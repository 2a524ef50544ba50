"""Imports from another loyalty app: the imports and their matched rows.

The ledger's new entry kinds (`import`, `import_reversal`) need no DDL: `ledger_entries.kind`
is a non-native enum without a CHECK constraint (migration 0001), like the kinds that 0011
and 0014 brought.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 15:45:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
POINTS = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
STATUSES = ('previewed', 'applied', 'reverted')


def upgrade() -> None:
    op.create_table(
        'imports',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('shop_id', ID, nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('format', sa.String(length=16), nullable=False),
        sa.Column('status', sa.Enum(*STATUSES, name='importstatus', native_enum=False, length=32), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('applied_digest', sa.String(length=64), nullable=True),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('members_matched', sa.Integer(), nullable=False),
        sa.Column('members_new', sa.Integer(), nullable=False),
        sa.Column('points_total', POINTS, nullable=False),
        sa.Column('errors', sa.JSON(), nullable=False),
        sa.Column('errors_total', sa.Integer(), nullable=False),
        sa.Column('not_reverted', POINTS, nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reverted_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_imports_shop_id_shops'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_imports')),
        sa.UniqueConstraint('shop_id', 'applied_digest', name='uq_imports_applied_digest'),
    )
    op.create_index('ix_imports_shop', 'imports', ['shop_id', 'id'])
    op.create_table(
        'import_rows',
        sa.Column('import_id', ID, nullable=False),
        sa.Column('row', sa.Integer(), nullable=False),
        sa.Column('shop_id', ID, nullable=False),
        sa.Column('customer_id', sa.BigInteger(), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=True),
        sa.Column('points', POINTS, nullable=False),
        sa.Column('earned_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('tier_id', ID, nullable=True),
        sa.Column('birthday', sa.String(length=5), nullable=True),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_import_rows_import_id_imports'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_import_rows_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('import_id', 'row', name=op.f('pk_import_rows')),
    )
    op.create_index('ix_import_rows_import', 'import_rows', ['import_id', 'customer_id', 'row'])
    op.create_index('ix_import_rows_customer', 'import_rows', ['shop_id', 'customer_id'])


def downgrade() -> None:
    op.drop_index('ix_import_rows_customer', table_name='import_rows')
    op.drop_index('ix_import_rows_import', table_name='import_rows')
    op.drop_table('import_rows')
    op.drop_index('ix_imports_shop', table_name='imports')
    op.drop_table('imports')
