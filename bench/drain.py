"""Part (b): how many orders/paid events one worker process turns into ledger entries per second.

The pending events are inserted straight into `webhook_events`, with the columns intake
would write and platform-shaped payloads (bench/payloads.py). The timed part is exactly
what an RQ drain job runs: `webhooks.processing.drain_due_events()` inside an app context,
here in this one process. A `before_cursor_execute` listener on the app's engine counts the
SQL statements; commits and pool checkouts are counted too. The ledger is then checked with
`verify_balances` and against the points computed independently from the payloads.
"""
import time
import uuid
from dataclasses import dataclass, field

from sqlalchemy import event, func, select, text

from bench.payloads import API_VERSION, SHOP, Order
from plugin.db import transaction, utcnow
from plugin.loyalty.ledger.verification import verify_balances
from plugin.models import EventStatus, LedgerEntry, Member, WebhookEvent


@dataclass
class DrainResult:
    orders: int
    handled: int
    seconds: float
    statements: int
    checkouts: int
    commits: int
    statement_kinds: dict = field(default_factory=dict)
    sql_seconds: float = 0.0  # wall time inside cursor.execute (round trip + server work)
    cpu_seconds: float = 0.0  # CPU time of this process during the drain
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


COLUMNS = ("shop_domain", "topic", "webhook_id", "event_id", "api_version", "triggered_at", "payload",
           "received_at", "status", "attempts", "next_attempt_at")


def insert_pending(app, orders: list[Order]) -> float:
    """Store the orders as pending orders/paid deliveries (one COPY); returns the seconds it took."""
    started = time.perf_counter()
    now = utcnow()
    raw = app.extensions["engine"].raw_connection()
    try:
        connection = raw.driver_connection  # psycopg 3
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY webhook_events ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for order in orders:
                    copy.write_row((SHOP, "orders/paid", str(uuid.uuid4()), str(uuid.uuid4()), API_VERSION,
                                    now.isoformat(), order.body, now, EventStatus.PENDING.value, 0, now))
        connection.commit()
    finally:
        raw.close()
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
    counts = {"statements": 0, "checkouts": 0, "commits": 0, "sql_seconds": 0.0}
    kinds: dict[str, int] = {}
    started_at: list[float] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        counts["statements"] += 1
        key = statement_kind(statement)
        kinds[key] = kinds.get(key, 0) + 1
        started_at.append(time.perf_counter())

    def after_execute(*_args):
        if started_at:
            counts["sql_seconds"] += time.perf_counter() - started_at.pop()

    def on_checkout(*_args):
        counts["checkouts"] += 1

    def on_commit(_conn):
        counts["commits"] += 1

    listeners = [(engine, "before_cursor_execute", on_execute), (engine, "after_cursor_execute", after_execute),
                 (engine.pool, "checkout", on_checkout), (engine, "commit", on_commit)]
    for target, name, function in listeners:
        event.listen(target, name, function)
    try:
        with app.app_context():
            started = time.perf_counter()
            cpu_started = time.process_time()
            handled = drain_due_events()
            seconds = time.perf_counter() - started
            cpu_seconds = time.process_time() - cpu_started
    finally:
        for target, name, function in listeners:
            event.remove(target, name, function)

    result = DrainResult(len(orders), handled, seconds, counts["statements"], counts["checkouts"],
                         counts["commits"], dict(sorted(kinds.items(), key=lambda kv: -kv[1])),
                         sql_seconds=counts["sql_seconds"], cpu_seconds=cpu_seconds)
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
