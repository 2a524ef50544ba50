"""The points lifecycle's tick at scale: a shop with 100,000 members and 1,000,000 entries.

`run(database_url)` takes a migrated PostgreSQL database, adds its own shop (a fresh
domain) with the `fifo` policy (12 months, reminders 14 days before) and builds, with a few
`INSERT ... SELECT generate_series` statements in one transaction, 1,000,000 paid-order
entries across 100,000 members, each with its point lot, the members' balances set from
them. One member in ten holds two lots earned 400 to 500 days ago: the tick must expire
those (10% of the members), and record their `points_expired` events and the reminders due.
Then it times, through the real `run_tick` with SQL statements counted:

- the expiring tick (every step: codes, pending, expiry, reminders), and
- the same tick again, which has nothing to do (it must change nothing).

Targets on the 2-core box: the expiring tick under 30 s, the idle tick under 2 s, and a
statement count that does not grow with the number of members (set-based steps).

    python -m bench.tick postgresql://postgres@127.0.0.1/some_migrated_db
"""
import sys
import time
import uuid

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, event, text

from plugin.config import database_url as normalised_url
from plugin.db import utcnow

MEMBERS = 100_000
ENTRIES = 1_000_000
EXPIRING_SHARE = 10  # one member in ten
TARGET_EXPIRING_S = 30.0
TARGET_IDLE_S = 2.0

BUILD = [
    ("members", """
        INSERT INTO members (shop_id, customer_id, email, balance, pending, lifetime_earned, created_at)
        SELECT :shop, g, 'c' || g || '@example.com', 0, 0, 0, now() - interval '600 days'
        FROM generate_series(1, :members) AS g"""),
    ("ledger entries", """
        INSERT INTO ledger_entries (shop_id, member_id, delta, kind, source_id, order_id, reason, created_at)
        SELECT :shop, m.id, drawn.delta, 'order_award', drawn.g::text, drawn.g, 'Order #' || drawn.g || ' paid', drawn.at
        FROM (SELECT g, 1 + (g % :members) AS customer, 1 + floor(random() * 100)::int AS delta,
                     CASE WHEN (g % :members) % :share = 0 AND g <= 2 * :members
                          THEN now() - interval '400 days' - random() * interval '100 days'
                          ELSE now() - random() * interval '300 days' END AS at
              FROM generate_series(1, :entries) AS g) AS drawn
        JOIN members AS m ON m.shop_id = :shop AND m.customer_id = drawn.customer
        ORDER BY drawn.at"""),
    ("point lots", """
        INSERT INTO point_lots (shop_id, member_id, entry_id, order_id, earned_at, amount, remaining, expired)
        SELECT shop_id, member_id, id, order_id, created_at, delta, delta, 0
        FROM ledger_entries WHERE shop_id = :shop ORDER BY id"""),
    ("balances", """
        UPDATE members SET balance = sums.total, lifetime_earned = sums.total
        FROM (SELECT member_id, sum(delta) AS total FROM ledger_entries WHERE shop_id = :shop GROUP BY member_id) AS sums
        WHERE members.id = sums.member_id"""),
]


def run(database_url: str) -> dict:
    url = normalised_url(database_url)
    domain = f"bench-tick-{uuid.uuid4().hex[:8]}.myshopify.com"
    engine = create_engine(url)
    try:
        build = _build(engine, domain)
        _vacuum(engine)
        timings = _time_ticks(url, engine, build["shop_id"])
    finally:
        engine.dispose()
    result = {"shop": domain, **build, **timings}
    _print(result)
    return result


def _build(engine, domain: str) -> dict:
    started, steps = time.perf_counter(), {}
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL synchronous_commit = off"))
        connection.execute(text("SELECT setseed(0.42)"))
        shop = connection.execute(text(
            "INSERT INTO shops (domain, currency, created_at, installed_at) VALUES (:domain, 'USD', now(), now()) "
            "RETURNING id"), {"domain": domain}).scalar_one()
        connection.execute(text("""
            INSERT INTO programs (shop_id, points_per_currency_unit, signup_bonus, excluded_order_tags,
                                  exclude_gift_cards, award_test_orders, return_points_on_expiry, updated_at,
                                  pending_days, expiry_policy, expiry_months, expiry_reminder_days)
            VALUES (:shop, 1, 0, '[]', true, false, true, now(), 0, 'fifo', 12, 14)"""), {"shop": shop})
        params = {"shop": shop, "members": MEMBERS, "entries": ENTRIES, "share": EXPIRING_SHARE}
        for name, sql in BUILD:
            step = time.perf_counter()
            connection.execute(text(sql), params)
            steps[name] = round(time.perf_counter() - step, 1)
        counts = connection.execute(text("""
            SELECT (SELECT count(*) FROM ledger_entries WHERE shop_id = :shop),
                   (SELECT count(*) FROM members WHERE shop_id = :shop),
                   (SELECT count(DISTINCT member_id) FROM point_lots
                    WHERE shop_id = :shop AND earned_at < now() - interval '366 days')"""), params).one()
    return {"shop_id": shop, "ledger_entries": counts[0], "members": counts[1], "members_due": counts[2],
            "build_seconds": round(time.perf_counter() - started, 1), "build_steps_seconds": steps}


def _vacuum(engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("members", "ledger_entries", "point_lots"):
            connection.execute(text(f"VACUUM ANALYZE {table}"))


def _time_ticks(url: str, engine, shop: int) -> dict:
    from plugin import create_app
    from plugin.loyalty.tick import run_tick

    app = create_app({"DATABASE_URL": url, "REDIS_URL": None, "SHOPIFY_API_KEY": "bench-tick",
                      "SHOPIFY_API_SECRET": uuid.uuid4().hex, "LOYALTY_ENCRYPTION_KEY": Fernet.generate_key().decode(),
                      "SWEEP_INTERVAL_SECONDS": 0})
    statements = []
    event.listen(app.extensions["engine"], "before_cursor_execute",
                 lambda *args, **kwargs: statements.append(1))
    now, result = utcnow(), {}
    try:
        with app.app_context():
            for name in ("expiring", "idle"):
                statements.clear()
                started = time.perf_counter()
                done = run_tick(now)
                result[f"{name}_tick_seconds"] = round(time.perf_counter() - started, 2)
                result[f"{name}_tick_statements"] = len(statements)
                result[f"{name}_tick_changes"] = done
    finally:
        app.extensions["engine"].dispose()
    with engine.connect() as connection:
        result["expired_members"] = connection.execute(text(
            "SELECT count(DISTINCT member_id) FROM ledger_entries WHERE shop_id = :shop AND kind = 'expiry'"),
            {"shop": shop}).scalar_one()
        result["ledger_agrees"] = connection.execute(text("""
            SELECT count(*) = 0 FROM members m
            LEFT JOIN (SELECT member_id, sum(delta) AS total FROM ledger_entries WHERE shop_id = :shop
                       GROUP BY member_id) s ON s.member_id = m.id
            WHERE m.shop_id = :shop AND m.balance + m.pending <> coalesce(s.total, 0)"""),
            {"shop": shop}).scalar_one()
    return result


def _print(result: dict) -> None:
    print(f"tick on {result['ledger_entries']:,} ledger entries, {result['members']:,} members "
          f"({result['members_due']:,} with points past their date) ({result['shop']})")
    print(f"  build: {result['build_seconds']} s {result['build_steps_seconds']}")
    for name, target in (("expiring", TARGET_EXPIRING_S), ("idle", TARGET_IDLE_S)):
        seconds = result[f"{name}_tick_seconds"]
        print(f"  {name} tick: {seconds} s (target < {target} s: {'PASS' if seconds < target else 'MISS'}), "
              f"{result[f'{name}_tick_statements']} SQL statements, changed {result[f'{name}_tick_changes']}")
    print(f"  members with an expiry entry: {result['expired_members']:,}; "
          f"balances agree with entries: {result['ledger_agrees']}")


if __name__ == "__main__":
    run(sys.argv[1])
