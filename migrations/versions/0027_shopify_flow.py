"""Shopify Flow: the triggers each shop uses, the trigger calls owed, the action runs answered.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 18:45:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
STATUSES = ('pending', 'sent', 'failed')


def upgrade() -> None:
    op.create_table(
        'flow_trigger_usage',
        sa.Column('shop_id', ID, nullable=False),
        sa.Column('handle', sa.String(length=64), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_flow_trigger_usage_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('shop_id', 'handle', name=op.f('pk_flow_trigger_usage')),
    )
    op.create_table(
        'flow_triggers',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('shop_id', ID, nullable=False),
        sa.Column('handle', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=160), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('status', sa.Enum(*STATUSES, name='triggerstatus', native_enum=False, length=32), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('error', sa.String(length=500), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_flow_triggers_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_flow_triggers')),
        sa.UniqueConstraint('shop_id', 'handle', 'key', name='uq_flow_triggers_key'),
    )
    op.create_index('ix_flow_triggers_due', 'flow_triggers', ['status', 'next_attempt_at'])
    op.create_index('ix_flow_triggers_shop', 'flow_triggers', ['shop_id', 'id'])
    op.create_table(
        'flow_action_runs',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('shop_id', ID, nullable=False),
        sa.Column('action_run_id', sa.String(length=255), nullable=False),
        sa.Column('handle', sa.String(length=64), nullable=False),
        sa.Column('status', sa.Integer(), nullable=False),
        sa.Column('answer', sa.JSON(), nullable=False),
        sa.Column('entry_id', ID, nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_flow_action_runs_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'],
                                name=op.f('fk_flow_action_runs_entry_id_ledger_entries'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_flow_action_runs')),
        sa.UniqueConstraint('shop_id', 'action_run_id', name='uq_flow_action_runs_run'),
    )


def downgrade() -> None:
    op.drop_table('flow_action_runs')
    op.drop_index('ix_flow_triggers_shop', table_name='flow_triggers')
    op.drop_index('ix_flow_triggers_due', table_name='flow_triggers')
    op.drop_table('flow_triggers')
    op.drop_table('flow_trigger_usage')
