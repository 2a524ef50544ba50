"""The win-back list at scale: `GET /api/at-risk` on a shop of 100,000 members and 780,000 orders.

`run(database_url)` takes a migrated PostgreSQL database, adds its own shop (a fresh domain)
with two years of orders (one in 21 by a guest, one in 50 cancelled; each with its business
day `tier_day`, as orders/paid stores it) and random balances, VACUUM ANALYZEs, and times
through the Flask test client with a real session token, after one warm-up request, the
median of 3 runs of:
- the baseline: `GET /api/members` (a plain page of 50, newest first), in the same run;
- `GET /api/at-risk` sorted by balance and by days since the last order, and the Members
  filter `GET /api/members?at_risk=1`;
- the whole list as CSV (`format=csv`, streamed);
- the tick's step (`raise_at_risk_events`): once with every crossing new, then again with
  none (the cost every 5 minutes), each in a transaction rolled back.
Each is reported with its ratio to the baseline; the list's total and its CSV's rows are
checked against a direct computation in Python from each customer's order days.

    python -m bench.at_risk postgresql://postgres@127.0.0.1/some_migrated_db
"""
import csv
import io
import math
import statistics
import sys
import time
import uuid
from collections import defaultdict
from datetime import timedelta

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bench.stats import API_KEY, _get, _shop, _timed_ms
from plugin.config import database_url as normalised_url
from plugin.db import utcnow

MEMBERS = 100_000
ORDERS = 780_000
HISTORY_DAYS = 730
RUNS = 3

BUILD = [
    ("members", """
        INSERT INTO members (shop_id, customer_id, email, first_name, balance, lifetime_earned, created_at)
        SELECT :shop, g, 'c' || g || '@example.com', 'Member ' || g,
               CASE WHEN g % 4 = 0 THEN 0 ELSE floor(random() * 2000)::int END, 0, now() - :history
        FROM generate_series(1, :members) AS g"""),
    ("orders", """
        INSERT INTO orders (shop_id, order_id, name, customer_id, earned_points, rate, total_price, paid_at,
                            cancelled_at, created_at, tier_day)
        SELECT :shop, 2000000000 + g, '#' || g, customer, 10, 1, 10, paid,
               CASE WHEN g % 50 = 0 THEN paid + interval '1 day' END, paid, CAST(paid AS date)
        FROM (SELECT g, CASE WHEN g % 21 = 0 THEN NULL ELSE 1 + floor(random() * :members)::bigint END AS customer,
                     now() - random() * :history AS paid
              FROM generate_series(1, :orders) AS g) AS drawn
        ORDER BY drawn.paid"""),
]


def run(database_url: str) -> dict:
    url = normalised_url(database_url)
    domain = f"bench-at-risk-{uuid.uuid4().hex[:8]}.myshopify.com"
    engine = create_engine(url)
    try:
        shop = _build(engine, domain)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in ("members", "orders"):
                connection.execute(text(f"VACUUM ANALYZE {table}"))
        expected = _direct(engine, shop)
        result = {"shop": domain, **_time_requests(url, domain, expected), **_time_tick(engine)}
    finally:
        engine.dispose()
    _print(result)
    return result


def _build(engine, domain: str) -> int:
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL synchronous_commit = off"))
        connection.execute(text("SELECT setseed(0.24)"))
        shop, _reward = _shop(connection, domain)
        params = {"shop": shop, "members": MEMBERS, "orders": ORDERS, "history": timedelta(days=HISTORY_DAYS)}
        for _name, sql in BUILD:
            connection.execute(text(sql), params)
    return shop


def _direct(engine, shop: int) -> dict:
    """The list's figures the plain way: each customer's order days, the docs' definitions."""
    today = utcnow().date()
    with engine.connect() as connection:
        days, balances = defaultdict(set), dict(connection.execute(text(
            "SELECT customer_id, balance FROM members WHERE shop_id = :s"), {"s": shop}).all())
        for customer, day in connection.execute(text(
                "SELECT customer_id, tier_day FROM orders WHERE shop_id = :s AND customer_id IS NOT NULL "
                "AND cancelled_at IS NULL"), {"s": shop}):
            days[customer].add(day)
    statuses = {}
    for customer, seen in days.items():
        first, last, count = min(seen), max(seen), len(seen)
        gap = 30 if count == 1 else max(14, math.ceil((last - first).days / (count - 1)))
        since = (today - last).days
        statuses[customer] = "active" if 2 * since <= 3 * gap else "at_risk" if since <= 3 * gap else "lapsed"
    listed = {c for c, s in statuses.items() if s != "active" and balances[c] > 0}
    return {"listed": listed, "at_risk": sum(1 for s in statuses.values() if s == "at_risk")}


def _time_requests(url: str, domain: str, expected: dict) -> dict:
    from plugin import create_app

    secret = uuid.uuid4().hex * 2
    app = create_app({"DATABASE_URL": url, "REDIS_URL": None, "SHOPIFY_API_KEY": API_KEY,
                      "SHOPIFY_API_SECRET": secret, "LOYALTY_ENCRYPTION_KEY": Fernet.generate_key().decode(),
                      "SWEEP_INTERVAL_SECONDS": 0})
    client, result = app.test_client(), {}
    asks = {"baseline_members": ("/api/members", {}), "at_risk_by_balance": ("/api/at-risk", {}),
            "at_risk_by_days_since": ("/api/at-risk", {"sort": "days_since"}),
            "members_at_risk_filter": ("/api/members", {"at_risk": "1"})}
    try:
        for name, (path, query) in asks.items():
            answer = _get(client, domain, secret, path, query)
            times = [_timed_ms(lambda: _get(client, domain, secret, path, query)) for _ in range(RUNS)]
            result[f"{name}_median_ms"] = round(statistics.median(times), 1)
            result[f"{name}_total"] = answer["total"]
        assert result["at_risk_by_balance_total"] == len(expected["listed"]), (result, len(expected["listed"]))
        assert result["members_at_risk_filter_total"] == expected["at_risk"], result
        rows = []
        result["csv_median_ms"] = round(statistics.median(
            _timed_ms(lambda: rows.append(_csv(client, domain, secret))) for _ in range(RUNS)), 1)
        assert {int(row["customer_id"]) for row in rows[-1]} == expected["listed"]
        result["csv_rows"] = len(rows[-1])
    finally:
        app.extensions["engine"].dispose()
    base = result["baseline_members_median_ms"]
    for name in ("at_risk_by_balance", "at_risk_by_days_since", "members_at_risk_filter", "csv"):
        result[f"{name}_ratio"] = round(result[f"{name}_median_ms"] / base, 1)
    return result


def _csv(client, domain: str, secret: str) -> list[dict]:
    now = int(time.time())
    import jwt

    token = jwt.encode({"iss": f"https://{domain}/admin", "dest": f"https://{domain}", "aud": API_KEY, "sub": "1",
                        "exp": now + 60, "nbf": now - 1, "iat": now - 1, "jti": uuid.uuid4().hex, "sid": "bench"},
                       secret, algorithm="HS256")
    response = client.get("/api/at-risk", query_string={"format": "csv"}, headers={"Authorization": f"Bearer {token}"})
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def _time_tick(engine) -> dict:
    """The tick's step over every installed shop in this database, first and second time, undone after."""
    from plugin.loyalty.churn.crossings import raise_at_risk_events

    now, result = utcnow(), {}
    with Session(engine) as session:
        started = time.perf_counter()
        result["tick_first_crossings"] = raise_at_risk_events(session, now)
        result["tick_first_ms"] = round((time.perf_counter() - started) * 1000, 1)
        started = time.perf_counter()
        result["tick_again_crossings"] = raise_at_risk_events(session, now)
        result["tick_again_ms"] = round((time.perf_counter() - started) * 1000, 1)
        session.rollback()
    return result


def _print(result: dict) -> None:
    print(f"win-back list on {MEMBERS:,} members and {ORDERS:,} orders ({result['shop']})")
    print(f"  baseline GET /api/members: median {result['baseline_members_median_ms']} ms")
    for name in ("at_risk_by_balance", "at_risk_by_days_since", "members_at_risk_filter", "csv"):
        print(f"  {name}: median {result[f'{name}_median_ms']} ms, {result[f'{name}_ratio']} x the baseline")
    print(f"  listed {result['at_risk_by_balance_total']:,} (checked against a direct computation), "
          f"{result['members_at_risk_filter_total']:,} at risk; CSV rows {result['csv_rows']:,}")
    print(f"  tick step: {result['tick_first_crossings']:,} crossings in {result['tick_first_ms']} ms, "
          f"then {result['tick_again_crossings']} in {result['tick_again_ms']} ms")


if __name__ == "__main__":
    run(sys.argv[1])
