"""Points are 64-bit on PostgreSQL: balances, lifetime totals, entry deltas, order awards.

A shop in a currency with large units (IDR, VND) earns millions of points per order and
passes 2**31 at ordinary lifetime spend. SQLite's INTEGER is 64-bit already, so this only
changes PostgreSQL. `ALTER COLUMN ... TYPE bigint` rewrites each table and its indexes under
an ACCESS EXCLUSIVE lock: webhooks are still stored (the intake table is not touched) but
processing and panel reads of these tables wait for it. Measured on the project's 2-core
machine (PostgreSQL 15): 8.9 s for a 1,000,000-row table shaped like `ledger_entries` with
two indexes, so roughly 1 s per 100,000 entries; run it in a quiet hour on a large install.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 10:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

COLUMNS = (("members", "balance"), ("members", "lifetime_earned"), ("ledger_entries", "delta"),
           ("orders", "earned_points"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in COLUMNS:
        op.alter_column(table, column, type_=sa.BigInteger(), existing_type=sa.Integer())


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in COLUMNS:
        op.alter_column(table, column, type_=sa.Integer(), existing_type=sa.BigInteger())
