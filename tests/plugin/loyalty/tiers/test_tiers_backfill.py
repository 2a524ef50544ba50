"""Migration 0016 counts the orders awarded before it, so members keep their tier history."""
import json
import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from plugin import create_app, migrate
from plugin.config import database_url
from tests.conftest import app_config

NOW = "2026-06-01 12:00:00"


@pytest.fixture
def scratch(tmp_path):
    """A database of its own on this run's backend, migrated only up to 0015, the revision before the tiers."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        url = f"sqlite:///{tmp_path / 'backfill.sqlite3'}"
        migrate.upgrade(url, "0015")
        yield url
        return
    base = make_url(database_url(base))
    name = f"loyalty_backfill_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url, "0015")
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def facts(subtotal: str, at: str, gift_cards: str = "0") -> str:
    return json.dumps({"business_time": at, "subtotal": subtotal, "gift_card_total": gift_cards, "tags": [],
                       "test": False, "lines": []})


def seed(connection) -> None:
    run = lambda sql, **values: connection.execute(text(sql), values)  # noqa: E731
    run("INSERT INTO shops (id, domain, iana_timezone, created_at) VALUES (1, 'a.myshopify.com', "
        "'Pacific/Auckland', :now)", now=NOW)
    run("INSERT INTO members (id, shop_id, customer_id, balance, lifetime_earned, created_at) "
        "VALUES (1, 1, 7001, 140, 300, :now)", now=NOW)
    # 100.00 paid late on 31 December UTC: 1 January 2026 in Auckland; refunded 60.00 of it.
    run("INSERT INTO orders (shop_id, order_id, customer_id, earned_points, rate, facts, paid_at, created_at) "
        "VALUES (1, 11, 7001, 100, 1, :facts, :now, :now)", facts=facts("100.00", "2025-12-31T20:00:00+00:00"), now=NOW)
    run("INSERT INTO refunds (shop_id, refund_id, order_id, refunded_subtotal, applied, created_at) "
        "VALUES (1, 91, 11, 60, :yes, :now)", yes=True, now=NOW)
    # 130.00 with a 30.00 gift card in March 2026, then cancelled; and a 50.00 test order that earned nothing.
    run("INSERT INTO orders (shop_id, order_id, customer_id, earned_points, rate, facts, paid_at, cancelled_at, "
        "created_at) VALUES (1, 12, 7001, 100, 1, :facts, :now, :now, :now)",
        facts=facts("130.00", "2026-03-01T10:00:00+00:00", "30.00"), now=NOW)
    run("INSERT INTO orders (shop_id, order_id, customer_id, earned_points, rate, facts, paid_at, created_at) "
        "VALUES (1, 13, 7001, 0, 1, :facts, :now, :now)", facts=facts("50.00", "2026-03-02T10:00:00+00:00"), now=NOW)
    for n, (kind, delta, order_id) in enumerate([("order_award", 100, 11), ("refund_reversal", -60, 11),
                                                 ("order_award", 100, 12), ("cancel_reversal", -100, 12),
                                                 ("adjustment", 100, None)]):
        run("INSERT INTO ledger_entries (shop_id, member_id, delta, kind, source_id, order_id, reason, created_at) "
            "VALUES (1, 1, :delta, :kind, :source, :order_id, 'seeded', :now)",
            delta=delta, kind=kind, source=f"s{n}", order_id=order_id, now=NOW)


def test_orders_awarded_before_tiers_are_counted_on_their_business_day(scratch):
    engine = create_engine(scratch)
    with engine.begin() as connection:
        seed(connection)
    migrate.upgrade(scratch)
    with engine.connect() as connection:
        figures = connection.execute(text(
            "SELECT grain, starts_on, points, amount_micros FROM member_tier_totals ORDER BY grain, starts_on")).all()
    engine.dispose()
    assert [(grain, str(day), points, amount) for grain, day, points, amount in figures] == [
        ("day", "2026-01-01", 40, 40_000_000), ("day", "2026-03-01", 0, 0), ("day", "2026-03-02", 0, 0),
        ("year", "2026-01-01", 40, 40_000_000)]
    verify = create_app(app_config(scratch, None)).test_cli_runner().invoke(args=["verify-ledger"])
    assert verify.exit_code == 0, verify.output
