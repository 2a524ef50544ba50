"""SQLite: point and millionth columns refuse anything but an integer.

SQLite's integer arithmetic does not fail when it passes 2**63: `balance + :x` becomes a
float, stored as it is, and every sum read afterwards is wrong (or fails with "integer
overflow"). PostgreSQL's BIGINT refuses such a value already. So on SQLite, BEFORE INSERT and
BEFORE UPDATE triggers abort any write that leaves one of these columns holding something
other than an integer (or NULL where the column allows it); the app classifies the error
("not a 64-bit integer") as a failure no retry can mend. Triggers rather than CHECK
constraints: a new CHECK needs each table rebuilt (batch mode), which would copy
`ledger_entries` and lose its append-only trigger, and rewrite the largest tables for a
guard a trigger gives in place. `ledger_entries` only gets an INSERT guard: its UPDATE is
refused altogether (0001).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 16:00:00.000000
"""
from alembic import op


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

COLUMNS = {
    "members": ("balance", "pending", "lifetime_earned"),
    "ledger_entries": ("delta",),
    "point_lots": ("amount", "remaining", "expired"),
    "point_lot_uses": ("points",),
    "orders": ("earned_points", "tier_amount_micros"),
    "referrals": ("points",),
    "member_tier_totals": ("points", "amount_micros"),
    "store_sync": ("points",),
}
MESSAGE = "a point or millionth column of {table} is not a 64-bit integer"


def _triggers(table: str, columns: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the table's guards."""
    when = " OR ".join(f"typeof(NEW.{column}) NOT IN ('integer', 'null')" for column in columns)
    body = f"BEGIN SELECT RAISE(ABORT, '{MESSAGE.format(table=table)}'); END"
    made = [(f"{table}_integers_insert", f"BEFORE INSERT ON {table}")]
    if table != "ledger_entries":
        made.append((f"{table}_integers_update", f"BEFORE UPDATE OF {', '.join(columns)} ON {table}"))
    return [(name, f"CREATE TRIGGER {name} {event} FOR EACH ROW WHEN {when} {body}") for name, event in made]


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in COLUMNS.items():
        for _, statement in _triggers(table, columns):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in COLUMNS.items():
        for name, _ in _triggers(table, columns):
            op.execute(f"DROP TRIGGER {name}")
