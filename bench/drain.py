"""Part (b): how many orders/paid events one worker process turns into ledger entries per second.

The pending events are inserted straight into `webhook_events`, with the columns intake
would write and platform-shaped payloads (bench/payloads.py). The timed part is exactly
what an RQ drain job runs: `webhooks.processing.drain_due_events()` inside an app context,
here in this one process. A `before_cursor_execute` listener on the app's engine counts the
SQL statements, and pool checkouts are counted too (each one costs a pre-ping round trip
with `pool_pre_ping=True`). The ledger is then checked with `verify_balances` and against
the points computed independently from the payloads.
"""
import time
import uuid

from dataclasses import dataclass, field

from sqlalchemy import event, func, select, text

from bench.payloads import API_VERSION, SHOP, Order
from plugin.db import transaction, utcnow
from plugin.ledger import verify_balances
from plugin.models import EventStatus, LedgerEntry, Member, WebhookEvent

EVENTS = WebhookEvent.__table__


@dataclass
class DrainResult:
    orders: int
    handled: int
    seconds: float
    statements: int
    checkouts: int
    commits: int
    statement_kinds: dict = field(default_factory=dict)
    mismatches: list = field(default_factory=list)
    status_counts: dict = field(default_factory=dict)
    members: int = 0
    entries: int = 0
    balance_total: int = 0
    expected_total: int = 0
    expected_members: int = 0

    @property
    def per_second(self) -> float:
        return self.handled / self.seconds if self.seconds else 0.0

    @property
    def statements_per_order(self) -> float:
        return self.statements / self.handled if self.handled else 0.0


def insert_pending(app, orders: list[Order], chunk: int = 2000) -> float:
    """Store the orders as pending orders/paid deliveries; returns the seconds it took."""
    started = time.perf_counter()
    now = utcnow()
    rows = [dict(shop_domain=SHOP, topic="orders/paid", webhook_id=str(uuid.uuid4()), event_id=str(uuid.uuid4()),
                 api_version=API_VERSION, triggered_at=now.isoformat(), payload=order.body, received_at=now,
                 status=EventStatus.PENDING, attempts=0, next_attempt_at=now) for order in orders]
    engine = app.extensions["engine"]
    with engine.begin() as connection:
        for start in range(0, len(rows), chunk):
            connection.execute(EVENTS.insert(), rows[start:start + chunk])
    return time.perf_counter() - started


def analyze(app) -> None:
    """Fresh planner statistics, as autovacuum would have after a real burst."""
    with app.extensions["engine"].connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE webhook_events"))


def statement_kind(statement: str) -> str:
    """`INSERT orders`, `UPDATE webhook_events`, `SELECT shops` ...: verb and first table."""
    words = statement.split()
    verb = words[0].upper() if words else "?"
    upper = [word.upper() for word in words]
    marker = {"INSERT": "INTO", "SELECT": "FROM", "DELETE": "FROM"}.get(verb)
    if marker in upper:
        return f"{verb} {words[upper.index(marker) + 1].lower()}"
    return f"{verb} {words[1].lower()}" if verb == "UPDATE" and len(words) > 1 else verb


def run_drain(app, orders: list[Order]) -> DrainResult:
    from webhooks.processing import drain_due_events

    engine = app.extensions["engine"]
    counts = {"statements": 0, "checkouts": 0, "commits": 0}
    kinds: dict[str, int] = {}

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        counts["statements"] += 1
        key = statement_kind(statement)
        kinds[key] = kinds.get(key, 0) + 1

    def on_checkout(*_args):
        counts["checkouts"] += 1

    def on_commit(_conn):
        counts["commits"] += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine.pool, "checkout", on_checkout)
    event.listen(engine, "commit", on_commit)
    try:
        with app.app_context():
            started = time.perf_counter()
            handled = drain_due_events()
            seconds = time.perf_counter() - started
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine.pool, "checkout", on_checkout)
        event.remove(engine, "commit", on_commit)

    result = DrainResult(len(orders), handled, seconds, counts["statements"], counts["checkouts"],
                         counts["commits"], dict(sorted(kinds.items(), key=lambda kv: -kv[1])))
    with app.app_context(), transaction() as session:
        result.mismatches = verify_balances(session)
        result.status_counts = {status.value if hasattr(status, "value") else status: count
                                for status, count in session.execute(
                                    select(WebhookEvent.status, func.count()).group_by(WebhookEvent.status)).all()}
        result.members = session.scalar(select(func.count()).select_from(Member))
        result.entries = session.scalar(select(func.count()).select_from(LedgerEntry))
        result.balance_total = session.scalar(select(func.coalesce(func.sum(Member.balance), 0)))
    result.expected_total = sum(order.expected_points for order in orders)
    result.expected_members = len({order.customer_id for order in orders if order.customer_id is not None})
    return result
