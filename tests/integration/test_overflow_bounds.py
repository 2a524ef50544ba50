"""Issue 21's overflows: settings and payloads that once took a 64-bit figure past its range.

A per-item bonus of 1,000,000 on a line of quantity 10**12 overflowed 64 bits and was
retried with backoff; ten orders of 999,999,999,999.99 by one customer overflowed the tier
amount kept in millionths (stuck on PostgreSQL; a float on SQLite, after which
`verify-ledger` crashed for every shop). Now a payload past its bounds and an order past
what one order may earn fail at once, naming the bound; the tier amount stops counting at
its bound; `verify-ledger` reports a shop whose figures it cannot read and goes on.
"""
import pytest
from sqlalchemy import select, text

from plugin.models import EventStatus, WebhookEvent
from tests.helpers import OTHER_SHOP, SHOP, auth, balance, member, order, refund, table_counts

HUGE = "999999999999.99"


def add_rule(client, **fields) -> dict:
    response = client.post("/api/earning-rules", json=fields, headers=auth())
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def per_item_bonus(client, points: int = 1_000_000, name: str = "Bonus", match: dict | None = None) -> dict:
    return add_rule(client, name=name, kind="bonus_points", match=match or {"field": "any"}, points=points,
                    per="item")


def line(quantity, price: str = "0.00") -> dict:
    return {"id": 1, "product_id": 11, "price": price, "quantity": quantity, "discount_allocations": []}


def the_event(db) -> WebhookEvent:
    [event] = db.scalars(select(WebhookEvent)).all()
    return event


def test_a_quantity_past_its_bound_fails_at_once_naming_the_field(client, installed, send, db):
    per_item_bonus(client)
    before = table_counts(db)
    send("orders/paid", order(subtotal="0.00", line_items=[line(999_999_999_999)]))
    event = the_event(db)
    assert (event.status, event.attempts) == (EventStatus.FAILED, 1)
    assert event.last_error == "'line_items.quantity' must be a whole number from 0 to 1,000,000,000"
    assert balance(client) is None
    assert {k: v for k, v in table_counts(db).items() if k != "webhook_events"} == \
        {k: v for k, v in before.items() if k != "webhook_events"}


def test_an_order_that_would_earn_past_the_order_bound_fails_at_once_and_moves_nothing(client, installed, send, db):
    per_item_bonus(client, name="First")
    per_item_bonus(client, name="Second", match={"field": "product_id", "value": "11"})  # 2 × 10**6 × 10**9
    send("orders/paid", order(customer_id=7002, subtotal="10.00"))  # another customer, earning as usual
    before = table_counts(db)
    send("orders/paid", order(subtotal="0.00", line_items=[line(10**9)]))
    event = db.scalars(select(WebhookEvent).order_by(WebhookEvent.id.desc())).first()
    assert (event.status, event.attempts) == (EventStatus.FAILED, 1)
    assert "would earn 2,000,000,000,000,000 points" in event.last_error
    assert "1,000,000,000,000,000" in event.last_error
    assert balance(client) is None and balance(client, 7002) == 10  # no lines: no per-item bonus
    assert {k: v for k, v in table_counts(db).items() if k != "webhook_events"} == \
        {k: v for k, v in before.items() if k != "webhook_events"}


def test_ten_orders_of_a_trillion_count_toward_tiers_up_to_the_bound_and_verify(app, client, installed, send, db):
    response = client.patch("/api/program", json={"tier_basis": "amount_spent", "tier_window": "lifetime"},
                            headers=auth())
    assert response.status_code == 200, response.get_json()
    for day in range(1, 11):
        send("orders/paid", order(subtotal=HUGE, processed_at=f"2026-11-{day:02d}T10:00:00Z"))
    assert {e.status for e in db.scalars(select(WebhookEvent))} == {EventStatus.PROCESSED}
    assert balance(client) == 10 * 999_999_999_999
    assert member(client)["tier_progress"]["qualifying"] == "1000000000000.00"  # the bound: 10**12
    result = app.test_cli_runner().invoke(args=["verify-ledger"])
    assert result.exit_code == 0, result.output


def test_a_refund_after_the_bound_gives_back_only_what_was_counted(app, client, installed, send, db):
    client.patch("/api/program", json={"tier_basis": "amount_spent"}, headers=auth())
    first, second = order(subtotal=HUGE), order(subtotal=HUGE)
    send("orders/paid", first)
    send("orders/paid", second)  # counts only 0.01 more, up to the bound
    send("refunds/create", refund(second["id"], HUGE))
    assert member(client)["tier_progress"]["qualifying"] == HUGE
    assert app.test_cli_runner().invoke(args=["verify-ledger"]).exit_code == 0


def test_verify_ledger_reports_a_shop_it_cannot_read_and_checks_the_others(app, client, installed, send, db):
    send("orders/paid", order(subtotal="10.00"), shop=SHOP)
    send("orders/paid", order(subtotal="10.00"), shop=OTHER_SHOP)
    # Figures written before the bounds: two day rows of one year whose sum passes 2**63 in
    # SHOP (SQLite's SUM fails on them), and a balance that disagrees with its entries in OTHER_SHOP.
    member_id = db.scalar(text("SELECT id FROM members WHERE shop_id = (SELECT id FROM shops WHERE domain = :d)"),
                          {"d": SHOP})
    shop_id = db.scalar(text("SELECT id FROM shops WHERE domain = :d"), {"d": SHOP})
    for day in ("2020-01-01", "2020-01-02"):
        db.execute(text("INSERT INTO member_tier_totals (member_id, shop_id, grain, starts_on, year, points, "
                        "amount_micros) VALUES (:m, :s, 'day', :day, 2020, 0, 5000000000000000000)"),
                   {"m": member_id, "s": shop_id, "day": day})
    db.execute(text("UPDATE members SET balance = balance + 1 WHERE shop_id = "
                    "(SELECT id FROM shops WHERE domain = :d)"), {"d": OTHER_SHOP})
    result = app.test_cli_runner().invoke(args=["verify-ledger"])
    assert result.exit_code != 0
    assert f"shop {SHOP}" in result.output, result.output  # reported, whichever way its figures fail
    assert f"shop {OTHER_SHOP}" in result.output and "entries sum to 10" in result.output


@pytest.mark.parametrize("window", ["lifetime", "rolling_12_months"])
def test_with_tiers_the_bound_is_kept_from_the_figures_the_tiers_read(app, client, installed, send, db, window):
    """With tiers, the batch reads its members' figures once, under their lock, and the
    ledger's booking clamps with them (no second read): the same bound, the same answers."""
    response = client.patch("/api/program", json={"tier_basis": "amount_spent", "tier_window": window},
                            headers=auth())
    assert response.status_code == 200, response.get_json()
    assert client.post("/api/tiers", json={"name": "Gold", "threshold": 1000}, headers=auth()).status_code == 201
    first, second, third = (order(subtotal=HUGE, processed_at=f"2026-11-0{day}T10:00:00Z") for day in (1, 2, 3))
    send("orders/paid", first)
    send("orders/paid", second)  # counts only 0.01 more, up to the bound
    send("orders/paid", third)  # counts nothing
    assert member(client)["tier_progress"]["qualifying"] == "1000000000000.00"
    assert member(client)["tier"]["name"] == "Gold"
    counted = db.execute(text("SELECT order_id, tier_amount_micros FROM orders ORDER BY order_id")).all()
    assert [row.tier_amount_micros for row in counted] == [999_999_999_999_990_000, 10_000, 0]
    send("refunds/create", refund(second["id"], HUGE))  # gives back only the 0.01 it counted
    assert member(client)["tier_progress"]["qualifying"] == HUGE
    assert app.test_cli_runner().invoke(args=["verify-ledger"]).exit_code == 0
