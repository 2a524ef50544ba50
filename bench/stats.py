"""The dashboard figures at scale: `GET /api/stats` on a shop with 1,000,000 ledger entries.

`run(database_url)` takes a PostgreSQL database that is already migrated, adds its own shop
(a fresh domain, so it can share the database) with two years of history made by a few
`INSERT ... SELECT generate_series` statements in one transaction: members, orders (some
by guests, some cancelled), redemptions (some failed and given back, some used by an
order), and ledger entries to match (signup bonuses, order awards, cancel reversals,
redemptions and returns, adjustments to reach exactly one million), with the members'
balances set from their entries. Every order award has its lot, pending for 14 days (released
then by the tick, or still pending for the last 14 days' orders, as members' `pending`), and a
cancellation within those days took its points from the pending lot. Then VACUUM ANALYZE, as autovacuum would do to an
append-mostly table (it also sets the visibility map the index-only scans need), and it
times the real endpoints through the Flask test client with a real session token: the
dashboard (`/api/stats`) and the liability statement (`/api/reports/liability`), each for a
30-day and a 365-day period ending today, after one warm-up request, 3 runs each, median; the
statement's ratio to the dashboard's time in the same run, and its figures checked against a
direct computation (every row balances; the first opening and the last closing and pending
equal sums over the entries and the lots).

    python -m bench.stats postgresql://postgres@127.0.0.1/some_migrated_db
"""
import os
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import jwt
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from plugin.config import database_url as normalised_url
from plugin.db import utcnow

# BENCH_STATS_SCALE (default 1) shrinks every count below for a busy machine; the result says the scale.
SCALE = float(os.environ.get("BENCH_STATS_SCALE", "1"))
ENTRIES = int(1_000_000 * SCALE)
MEMBERS = int(100_000 * SCALE)  # two in three got the signup bonus
ORDERS = int(780_000 * SCALE)  # one in 21 by a guest, one in 20 excluded by tag (earns 0), one in 50 cancelled
REDEMPTIONS = int(100_000 * SCALE)  # one in 10 failed (points returned), one in 4 used by an order
HISTORY_DAYS = 730
PENDING_DAYS = 14
RUNS = 3
API_KEY = "bench-stats-api-key"

# Rows go in in time order, as a live shop writes them, so the tables' physical order
# follows their timestamps the way production's does.
BUILD = [
    ("members", """
        INSERT INTO members (shop_id, customer_id, email, balance, lifetime_earned, created_at)
        SELECT :shop, row_number() OVER (ORDER BY at), 'c' || g || '@example.com', 0, 0, at
        FROM (SELECT g, now() - random() * :history AS at FROM generate_series(1, :members) AS g) AS drawn
        ORDER BY at"""),
    ("orders", """
        INSERT INTO orders (shop_id, order_id, name, customer_id, earned_points, rate, total_price, paid_at,
                            cancelled_at, created_at, tier_day)
        SELECT :shop, 1000000000 + g, '#' || g, customer,
               CASE WHEN customer IS NULL OR g % 20 = 7 THEN 0 ELSE floor(total * 0.9) END,
               1, total, paid, CASE WHEN g % 50 = 0 THEN paid + interval '1 day' END, paid,
               CAST(paid AT TIME ZONE 'UTC' AS DATE)
        FROM (SELECT g, CASE WHEN g % 21 = 0 THEN NULL ELSE 1 + floor(random() * :members)::bigint END AS customer,
                     round((5 + random() * 195)::numeric, 2) AS total, now() - random() * :history AS paid
              FROM generate_series(1, :orders) AS g) AS drawn
        ORDER BY paid"""),
    ("redemptions", """
        INSERT INTO redemptions (shop_id, member_id, reward_id, points, code, status, attempts, order_id, created_at,
                                 issued_at, used_at)
        SELECT :shop, m.id, :reward, 500, 'BENCH-' || g,
               CASE WHEN g % 10 = 1 THEN 'failed' WHEN g % 4 = 0 THEN 'used' ELSE 'issued' END, 1,
               CASE WHEN g % 4 = 0 THEN 1000000000 + 1 + (g * 7) % :orders END, drawn.at,
               CASE WHEN g % 10 <> 1 THEN drawn.at END, CASE WHEN g % 4 = 0 THEN drawn.at + interval '1 hour' END
        FROM (SELECT g, 1 + floor(random() * :members)::bigint AS customer, now() - random() * :history AS at
              FROM generate_series(1, :redemptions) AS g) AS drawn
        JOIN members AS m ON m.shop_id = :shop AND m.customer_id = drawn.customer
        ORDER BY drawn.at"""),
    ("ledger entries", """
        INSERT INTO ledger_entries (shop_id, member_id, delta, kind, source_id, order_id, reason, created_at)
        SELECT :shop, member_id, delta, kind, source_id, order_id, reason, at FROM (
            SELECT id AS member_id, 50 AS delta, 'signup_bonus' AS kind, customer_id::text AS source_id,
                   NULL::bigint AS order_id, 'Signup bonus' AS reason, created_at AS at
            FROM members WHERE shop_id = :shop AND customer_id % 3 <> 0
          UNION ALL
            SELECT m.id, o.earned_points, 'order_award', o.order_id::text, o.order_id, 'Order ' || o.name || ' paid',
                   o.paid_at
            FROM orders AS o JOIN members AS m ON m.shop_id = :shop AND m.customer_id = o.customer_id
            WHERE o.shop_id = :shop AND o.earned_points > 0
          UNION ALL
            SELECT m.id, -o.earned_points, 'cancel_reversal', o.order_id::text, o.order_id,
                   'Order ' || o.name || ' cancelled', o.cancelled_at
            FROM orders AS o JOIN members AS m ON m.shop_id = :shop AND m.customer_id = o.customer_id
            WHERE o.shop_id = :shop AND o.earned_points > 0 AND o.cancelled_at IS NOT NULL
          UNION ALL
            SELECT member_id, -points, 'redemption', id::text, NULL, 'Redeemed: 5 off your order', created_at
            FROM redemptions WHERE shop_id = :shop
          UNION ALL
            SELECT member_id, points, 'redemption_return', id::text, NULL, 'Code could not be created',
                   created_at + interval '1 minute'
            FROM redemptions WHERE shop_id = :shop AND status = 'failed'
          UNION ALL
            SELECT m.id, drawn.delta, 'adjustment', md5(CAST(:tag AS text) || g), NULL, 'Bench adjustment', drawn.at
            FROM (SELECT g, 1 + floor(random() * :members)::bigint AS customer, now() - random() * :history AS at,
                         CASE WHEN g % 3 = 0 THEN -1 ELSE 1 END * (1 + floor(random() * 100)::int) AS delta
                  FROM generate_series(1, :adjustments) AS g) AS drawn
            JOIN members AS m ON m.shop_id = :shop AND m.customer_id = drawn.customer
        ) AS entries ORDER BY at"""),
    ("lots", """
        INSERT INTO point_lots (shop_id, member_id, entry_id, order_id, earned_at, amount, remaining, expired,
                                pending_until, released_at, credited_at)
        SELECT :shop, e.member_id, e.id, e.order_id, e.created_at, e.delta,
               CASE WHEN o.cancelled_at IS NULL THEN e.delta ELSE 0 END, 0,
               CASE WHEN e.created_at + :pending > now() THEN e.created_at + :pending END,
               CASE WHEN e.created_at + :pending <= now() THEN e.created_at + :pending END, e.created_at
        FROM ledger_entries AS e JOIN orders AS o ON o.shop_id = :shop AND o.order_id = e.order_id
        WHERE e.shop_id = :shop AND e.kind = 'order_award' ORDER BY e.created_at"""),
    ("lot uses", """
        INSERT INTO point_lot_uses (shop_id, lot_id, entry_id, points)
        SELECT :shop, l.id, c.id, -c.delta
        FROM ledger_entries AS c JOIN point_lots AS l ON l.shop_id = :shop AND l.order_id = c.order_id
        WHERE c.shop_id = :shop AND c.kind = 'cancel_reversal' ORDER BY c.created_at"""),
    ("balances", """
        UPDATE members SET balance = sums.total - sums.pending, pending = sums.pending, lifetime_earned = sums.earned
        FROM (SELECT member_id, sum(delta) AS total,
                     sum(CASE WHEN kind IN ('order_award', 'signup_bonus', 'adjustment') AND delta > 0
                              THEN delta ELSE 0 END) AS earned,
                     (SELECT coalesce(sum(l.remaining), 0) FROM point_lots AS l
                      WHERE l.member_id = ledger_entries.member_id AND l.pending_until IS NOT NULL) AS pending
              FROM ledger_entries WHERE shop_id = :shop GROUP BY member_id) AS sums
        WHERE members.id = sums.member_id"""),
]
# How many entries the history makes before the adjustments that round it up to ENTRIES.
COUNT_ENTRIES = """
    SELECT (SELECT count(*) FROM members WHERE shop_id = :shop AND customer_id % 3 <> 0)
         + (SELECT count(*) FROM orders WHERE shop_id = :shop AND customer_id IS NOT NULL AND earned_points > 0)
         + (SELECT count(*) FROM orders WHERE shop_id = :shop AND customer_id IS NOT NULL AND earned_points > 0
                                          AND cancelled_at IS NOT NULL)
         + (SELECT count(*) FROM redemptions WHERE shop_id = :shop)
         + (SELECT count(*) FROM redemptions WHERE shop_id = :shop AND status = 'failed')"""


def run(database_url: str) -> dict:
    """Build the shop, time the endpoint, print and return the figures."""
    url = normalised_url(database_url)
    domain = f"bench-stats-{uuid.uuid4().hex[:8]}.myshopify.com"
    engine = create_engine(url)
    try:
        build = _build(engine, domain)
        vacuum = _vacuum(engine)
        timings = _time_requests(url, domain)
    finally:
        engine.dispose()
    result = {"shop": domain, "scale": SCALE, "members": MEMBERS, **build, "vacuum_analyze_seconds": round(vacuum, 1),
              **timings}
    _print(result)
    return result


def _build(engine, domain: str) -> dict:
    started = time.perf_counter()
    steps = {}
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL synchronous_commit = off"))
        if connection.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
            # A bulk load's usual shortcut: no per-row foreign-key checks (every row here comes
            # from a join on the rows it points at). The indexes are all kept and maintained.
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text("SELECT setseed(0.42)"))
        shop, reward = _shop(connection, domain)
        params = {"shop": shop, "reward": reward, "members": MEMBERS, "orders": ORDERS, "redemptions": REDEMPTIONS,
                  "entries": ENTRIES, "history": timedelta(days=HISTORY_DAYS), "tag": domain,
                  "pending": timedelta(days=PENDING_DAYS)}
        for name, sql in BUILD:
            step = time.perf_counter()
            if name == "ledger entries":
                params["adjustments"] = ENTRIES - connection.execute(text(COUNT_ENTRIES), params).scalar_one()
            connection.execute(text(sql), params)
            steps[name] = round(time.perf_counter() - step, 1)
        entries = connection.execute(text("SELECT count(*) FROM ledger_entries WHERE shop_id = :shop"),
                                     {"shop": shop}).scalar_one()
    return {"ledger_entries": entries, "build_seconds": round(time.perf_counter() - started, 1),
            "build_steps_seconds": steps}


def _shop(connection, domain: str) -> tuple[int, int]:
    """The shop, its default program and catalog; returns the shop id and the redeemed reward's id."""
    shop = connection.execute(text(
        "INSERT INTO shops (domain, currency, created_at) VALUES (:domain, 'USD', now()) RETURNING id"),
        {"domain": domain}).scalar_one()
    connection.execute(text("""
        INSERT INTO programs (shop_id, points_per_currency_unit, signup_bonus, excluded_order_tags,
                              exclude_gift_cards, award_test_orders, return_points_on_expiry, updated_at)
        VALUES (:shop, 1, 50, '[]', true, false, true, now())"""), {"shop": shop})
    rewards = connection.execute(text("""
        INSERT INTO rewards (shop_id, name, kind, value, points_cost, combines_with, active, created_at)
        VALUES (:shop, '5 off your order', 'amount_off', 5, 500, '{}', true, now()),
               (:shop, '10% off your order', 'percentage_off', 10, 1000, '{}', true, now()),
               (:shop, 'Free shipping', 'free_shipping', 0, 400, '{}', true, now()),
               (:shop, '12 off your order', 'amount_off', 12, 1000, '{}', true, now())
        RETURNING id"""), {"shop": shop}).scalars().all()
    return shop, rewards[0]


def _vacuum(engine) -> float:
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("members", "orders", "redemptions", "ledger_entries", "point_lots", "point_lot_uses"):
            connection.execute(text(f"VACUUM ANALYZE {table}"))
    return time.perf_counter() - started


def _time_requests(url: str, domain: str) -> dict:
    from plugin import create_app

    secret = uuid.uuid4().hex * 2
    app = create_app({"DATABASE_URL": url, "REDIS_URL": None, "SHOPIFY_API_KEY": API_KEY,
                      "SHOPIFY_API_SECRET": secret, "LOYALTY_ENCRYPTION_KEY": Fernet.generate_key().decode(),
                      "SWEEP_INTERVAL_SECONDS": 0})
    client, today = app.test_client(), utcnow().date()
    result = {}
    try:
        for days in (30, 365):
            query = {"from": (today - timedelta(days=days - 1)).isoformat(), "to": today.isoformat()}
            for name, path in (("stats", "/api/stats"), ("liability", "/api/reports/liability")):
                answer = _get(client, domain, secret, path, query)  # warm-up: connections, caches, plans
                times = [_timed_ms(lambda: _get(client, domain, secret, path, query)) for _ in range(RUNS)]
                result[f"{name}_{days}d_median_ms"] = round(statistics.median(times), 1)
                result[f"{name}_{days}d_runs_ms"] = [round(t, 1) for t in times]
                if name == "stats":
                    result[f"figures_{days}d"] = {key: value for key, value in answer.items()
                                                  if key not in ("series", "charts")}
                else:
                    result[f"liability_{days}d_checked"] = _check_liability(url, domain, answer["rows"])
            result[f"liability_{days}d_ratio"] = round(
                result[f"liability_{days}d_median_ms"] / result[f"stats_{days}d_median_ms"], 2)
            answer = _timed_report(client, domain, secret, "/api/reports/performance", query, f"performance_{days}d",
                                   result, baseline=f"stats_{days}d_median_ms")
            result[f"performance_{days}d_checked"] = _check_performance(url, domain, answer, query)
        answer = _timed_report(client, domain, secret, "/api/reports/cohorts", {"months": "12"}, "cohorts_12m", result)
        result["cohorts_12m_checked"] = _check_cohorts(url, domain, answer)
    finally:
        app.extensions["engine"].dispose()
    return result


# The statement's definitions, computed the plain way (the shop has no zone: UTC days). Some
# entries lie after today (cancellations a day after their order), so "by the end" is a bound.
DIRECT = """
    SELECT (SELECT coalesce(sum(delta), 0) FROM ledger_entries WHERE shop_id = :s AND created_at < :f),
           (SELECT coalesce(sum(delta), 0) FROM ledger_entries WHERE shop_id = :s AND created_at < :e),
           (SELECT coalesce(sum(l.amount - (SELECT coalesce(sum(u.points), 0) FROM point_lot_uses AS u
                                             JOIN ledger_entries AS ue ON ue.id = u.entry_id
                                             WHERE u.lot_id = l.id AND ue.created_at < :e
                                               AND ue.created_at < coalesce(l.released_at, l.pending_until))), 0)
            FROM point_lots AS l JOIN ledger_entries AS c ON c.id = l.entry_id
            WHERE l.shop_id = :s AND c.created_at < :e AND coalesce(l.released_at, l.pending_until) >= :e)"""


def _check_liability(url: str, domain: str, rows: list[dict]) -> str:
    """The statement against a direct computation: each row balances and follows the one before,
    the first opening and last closing are sums of entries, the last pending a sum of the lots'."""
    movements = ("earned", "reversed", "redeemed", "returned", "expired", "adjusted", "imported")
    for before, row in zip([None, *rows], rows):
        assert row["opening"] + sum(row[name] for name in movements) == row["closing"], row
        assert before is None or before["closing"] == row["opening"], row
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            shop = connection.execute(text("SELECT id FROM shops WHERE domain = :d"), {"d": domain}).scalar_one()
            first = datetime.fromisoformat(rows[0]["date"]).replace(tzinfo=timezone.utc)
            end = datetime.fromisoformat(rows[-1]["date"]).replace(tzinfo=timezone.utc) + timedelta(days=1)
            before, total, pending = connection.execute(text(DIRECT), {"s": shop, "f": first, "e": end}).one()
    finally:
        engine.dispose()
    assert (rows[0]["opening"], rows[-1]["closing"], rows[-1]["pending"]) == (before, total, pending), \
        (rows[0], rows[-1], before, total, pending)
    return f"{len(rows)} rows balance; opening {before:,}, closing {total:,}, pending {pending:,} as computed"


def _timed_report(client, domain: str, secret: str, path: str, query: dict, name: str, result: dict,
                  baseline: str = "stats_365d_median_ms") -> dict:
    """One report: a warm-up, then RUNS timed requests; their median and its ratio to the dashboard's time."""
    answer = _get(client, domain, secret, path, query)
    times = [_timed_ms(lambda: _get(client, domain, secret, path, query)) for _ in range(RUNS)]
    result[f"{name}_median_ms"] = round(statistics.median(times), 1)
    result[f"{name}_runs_ms"] = [round(t, 1) for t in times]
    result[f"{name}_ratio"] = round(result[f"{name}_median_ms"] / result[baseline], 2) if result.get(baseline) else None
    return answer


# Program performance by its definitions, the plain way (no index trick, UTC days: the shop has no zone).
DIRECT_PERFORMANCE = """
    SELECT CASE WHEN o.customer_id IS NULL THEN 'guests' WHEN m.lifetime_earned > 0 THEN 'members'
                ELSE 'non_members' END AS grp,
           count(DISTINCT o.customer_id), count(*), sum(o.total_price),
           sum(CASE WHEN EXISTS (SELECT 1 FROM redemptions AS r WHERE r.shop_id = :s AND r.order_id = o.order_id)
                    THEN o.total_price ELSE 0 END)
    FROM orders AS o LEFT JOIN members AS m ON m.shop_id = o.shop_id AND m.customer_id = o.customer_id
    WHERE o.shop_id = :s AND o.paid_at IS NOT NULL AND o.cancelled_at IS NULL
      AND CAST(o.paid_at AT TIME ZONE 'UTC' AS DATE) BETWEEN :f AND :t
    GROUP BY 1"""
DIRECT_CODES = """
    SELECT count(*), count(used_at) FROM redemptions
    WHERE shop_id = :s AND CAST(issued_at AT TIME ZONE 'UTC' AS DATE) BETWEEN :f AND :t"""


def _check_performance(url: str, domain: str, answer: dict, query: dict) -> str:
    """Customers, orders and revenue per group, reward revenue and codes, against DIRECT_*."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            shop = connection.execute(text("SELECT id FROM shops WHERE domain = :d"), {"d": domain}).scalar_one()
            params = {"s": shop, "f": datetime.fromisoformat(query["from"]).date(),
                      "t": datetime.fromisoformat(query["to"]).date()}
            groups = {row[0]: row[1:] for row in connection.execute(text(DIRECT_PERFORMANCE), params)}
            issued, used = connection.execute(text(DIRECT_CODES), params).one()
    finally:
        engine.dispose()
    for name in ("members", "non_members"):
        customers, orders, revenue, _ = groups.get(name, (0, 0, 0, 0))
        got = answer["groups"][name]
        assert (got["customers"], got["orders"], Decimal(got["revenue"])) == (customers, orders, revenue), (name, got)
    assert answer["guests"]["orders"] == groups.get("guests", (0, 0))[1], answer["guests"]
    rewarded = sum((row[3] for row in groups.values()), Decimal(0))
    assert Decimal(answer["reward_revenue"]) == rewarded and (answer["codes_issued"], answer["codes_used"]) == (
        issued, used), (answer["reward_revenue"], rewarded, issued, used)
    return (f"{answer['orders']:,} orders, members {answer['groups']['members']['customers']:,} customers, "
            f"reward revenue {answer['reward_revenue']}, {issued:,} codes issued: as computed")


DIRECT_COHORTS = """
    WITH joined AS (
        SELECT customer_id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month FROM members
        WHERE shop_id = :s AND lifetime_earned > 0 AND created_at >= :f)
    SELECT j.month, count(*), count(*) FILTER (WHERE EXISTS (
        SELECT 1 FROM orders AS o WHERE o.shop_id = :s AND o.customer_id = j.customer_id AND o.paid_at IS NOT NULL
          AND o.cancelled_at IS NULL AND to_char(o.paid_at AT TIME ZONE 'UTC', 'YYYY-MM') = j.month))
    FROM joined AS j GROUP BY 1"""


def _check_cohorts(url: str, domain: str, answer: dict) -> str:
    """Each cohort's size and its month-0 buyers, against DIRECT_COHORTS."""
    first = datetime.fromisoformat(answer["cohorts"][0]["month"] + "-01").replace(tzinfo=timezone.utc)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            shop = connection.execute(text("SELECT id FROM shops WHERE domain = :d"), {"d": domain}).scalar_one()
            direct = {row[0]: (row[1], row[2]) for row in connection.execute(text(DIRECT_COHORTS),
                                                                             {"s": shop, "f": first})}
    finally:
        engine.dispose()
    for cohort in answer["cohorts"]:
        assert (cohort["members"], cohort["buyers"][0]) == direct.get(cohort["month"], (0, 0)), cohort
    members = sum(cohort["members"] for cohort in answer["cohorts"])
    return f"{len(answer['cohorts'])} cohorts, {members:,} members, sizes and month-0 buyers as computed"


def _timed_ms(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def _get(client, domain: str, secret: str, path: str, query: dict) -> dict:
    now = int(time.time())
    token = jwt.encode({"iss": f"https://{domain}/admin", "dest": f"https://{domain}", "aud": API_KEY, "sub": "1",
                        "exp": now + 60, "nbf": now - 1, "iat": now - 1, "jti": uuid.uuid4().hex, "sid": "bench"},
                       secret, algorithm="HS256")
    response = client.get(path, query_string=query, headers={"Authorization": f"Bearer {token}"})
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}: {response.get_data(as_text=True)[:300]}")
    return response.get_json()


def _print(result: dict) -> None:
    print(f"dashboard stats on {result['ledger_entries']:,} ledger entries, {result['members']:,} members "
          f"(scale {result['scale']}, {result['shop']})")
    print(f"  build: {result['build_seconds']} s {result['build_steps_seconds']}, "
          f"VACUUM ANALYZE: {result['vacuum_analyze_seconds']} s")
    for days in (30, 365):
        print(f"  GET /api/stats, {days} days: median {result[f'stats_{days}d_median_ms']} ms "
              f"(runs {result[f'stats_{days}d_runs_ms']})")
        print(f"    {result[f'figures_{days}d']}")
        print(f"  GET /api/reports/liability, {days} days: median {result[f'liability_{days}d_median_ms']} ms "
              f"(runs {result[f'liability_{days}d_runs_ms']}), {result[f'liability_{days}d_ratio']} x the dashboard's")
        print(f"    {result[f'liability_{days}d_checked']}")
        print(f"  GET /api/reports/performance, {days} days: median {result[f'performance_{days}d_median_ms']} ms "
              f"(runs {result[f'performance_{days}d_runs_ms']}), {result[f'performance_{days}d_ratio']} x the "
              f"dashboard's")
        print(f"    {result[f'performance_{days}d_checked']}")
    print(f"  GET /api/reports/cohorts, 12 months: median {result['cohorts_12m_median_ms']} ms "
          f"(runs {result['cohorts_12m_runs_ms']}), {result['cohorts_12m_ratio']} x the dashboard's 365 days")
    print(f"    {result['cohorts_12m_checked']}")


if __name__ == "__main__":
    run(sys.argv[1])
