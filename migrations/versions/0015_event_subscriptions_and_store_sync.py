"""Event subscriptions and their deliveries; store sync of balances and tiers (and its triggers).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 12:05:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
STATUSES = ('pending', 'succeeded', 'failed')

# A member whose balance moves is marked for the store sync in the same transaction,
# however the balance moved (plugin/models/store_sync.py says why a trigger).
PG_MARK = """
CREATE FUNCTION store_sync_mark() RETURNS trigger AS $$
BEGIN
    INSERT INTO store_sync (member_id, shop_id, pending, version) VALUES (NEW.id, NEW.shop_id, true, 1)
    ON CONFLICT (member_id) DO UPDATE SET pending = true, version = store_sync.version + 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER members_store_sync_insert AFTER INSERT ON members
    FOR EACH ROW WHEN (NEW.balance <> 0) EXECUTE FUNCTION store_sync_mark();
CREATE TRIGGER members_store_sync_update AFTER UPDATE OF balance ON members
    FOR EACH ROW WHEN (NEW.balance IS DISTINCT FROM OLD.balance) EXECUTE FUNCTION store_sync_mark();
"""
SQLITE_MARK = """
CREATE TRIGGER members_store_sync_{name} AFTER {event} ON members
    FOR EACH ROW WHEN {condition}
BEGIN
    INSERT INTO store_sync (member_id, shop_id, pending, version) VALUES (NEW.id, NEW.shop_id, 1, 1)
    ON CONFLICT (member_id) DO UPDATE SET pending = 1, version = store_sync.version + 1;
END;
"""


def upgrade() -> None:
    op.create_table(
        'event_subscriptions',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('shop_id', ID, nullable=False),
        sa.Column('url', sa.String(length=2048), nullable=False),
        sa.Column('kinds', sa.JSON(), nullable=False),
        sa.Column('secret', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_event_subscriptions_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_event_subscriptions')),
    )
    op.create_index('ix_event_subscriptions_shop', 'event_subscriptions', ['shop_id'])
    op.create_table(
        'event_deliveries',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('shop_id', ID, nullable=False),
        sa.Column('subscription_id', ID, nullable=False),
        sa.Column('event_id', ID, nullable=True),
        sa.Column('status', sa.Enum(*STATUSES, name='deliverystatus', native_enum=False, length=32), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('response_status', sa.Integer(), nullable=True),
        sa.Column('error', sa.String(length=500), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['event_id'], ['member_events.id'], name=op.f('fk_event_deliveries_event_id_member_events'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_event_deliveries_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['subscription_id'], ['event_subscriptions.id'],
                                name=op.f('fk_event_deliveries_subscription_id_event_subscriptions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_event_deliveries')),
        sa.UniqueConstraint('subscription_id', 'event_id', name='uq_event_deliveries_event'),
    )
    op.create_index('ix_event_deliveries_due', 'event_deliveries', ['status', 'next_attempt_at'])
    op.create_index('ix_event_deliveries_subscription', 'event_deliveries', ['subscription_id', 'id'])
    op.create_table(
        'store_sync',
        sa.Column('member_id', ID, nullable=False),
        sa.Column('shop_id', ID, nullable=False),
        sa.Column('pending', sa.Boolean(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('points', sa.BigInteger(), nullable=True),
        sa.Column('tier', sa.String(length=255), nullable=True),
        sa.Column('tag_tier', sa.String(length=255), nullable=True),
        sa.Column('synced_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('error', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_store_sync_member_id_members'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_store_sync_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('member_id', name=op.f('pk_store_sync')),
    )
    op.create_index('ix_store_sync_pending', 'store_sync', ['pending', 'shop_id'])
    with op.batch_alter_table('programs') as batch_op:
        batch_op.add_column(sa.Column('store_sync_enabled', sa.Boolean(), nullable=False, server_default=sa.true()))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_MARK)
    else:
        op.execute(SQLITE_MARK.format(name='insert', event='INSERT', condition='NEW.balance <> 0'))
        op.execute(SQLITE_MARK.format(name='update', event='UPDATE OF balance',
                                      condition='NEW.balance IS NOT OLD.balance'))


def downgrade() -> None:
    op.execute('DROP TRIGGER IF EXISTS members_store_sync_insert' + (
        ' ON members' if op.get_bind().dialect.name == 'postgresql' else ''))
    op.execute('DROP TRIGGER IF EXISTS members_store_sync_update' + (
        ' ON members' if op.get_bind().dialect.name == 'postgresql' else ''))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS store_sync_mark()')
    with op.batch_alter_table('programs') as batch_op:
        batch_op.drop_column('store_sync_enabled')
    op.drop_table('store_sync')
    op.drop_table('event_deliveries')
    op.drop_table('event_subscriptions')
