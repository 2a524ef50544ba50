"""Worked examples of the points rules: each step sends a webhook and checks the balance."""
import itertools

import pytest

from tests.helpers import auth, balance, customer, member, order, refund


def set_program(client, **settings):
    response = client.patch("/api/program", json=settings, headers=auth())
    assert response.status_code == 200, response.get_json()


def test_paid_order_earns_floor_of_subtotal_times_rate(client, installed, send):
    set_program(client, points_per_currency_unit="1.5")
    send("orders/paid", order(subtotal="33.33"))
    assert balance(client) == 49  # 49.995 floors to 49


def test_gift_card_lines_earn_nothing_unless_the_merchant_counts_them(client, send):
    gift = {"gift_card": True, "price": "25.00", "quantity": 2, "total_discount": "0.00"}
    send("orders/paid", order(subtotal="80.00", line_items=[gift, {"gift_card": False, "price": "30.00", "quantity": 1}]))
    assert balance(client) == 30
    set_program(client, exclude_gift_cards=False)
    send("orders/paid", order(subtotal="80.00", line_items=[gift]))
    assert balance(client) == 110


def test_orders_with_an_excluded_tag_earn_nothing(client, installed, send):
    set_program(client, excluded_order_tags=["Wholesale"])
    send("orders/paid", order(subtotal="100.00", tags="vip, wholesale "))
    assert balance(client) == 0
    send("orders/paid", order(subtotal="100.00", tags="vip"))
    assert balance(client) == 100


def test_guest_orders_earn_nothing_and_create_no_member(client, send):
    send("orders/paid", order(customer_id=None, subtotal="100.00"))
    assert client.get("/api/members", headers=auth()).get_json()["total"] == 0


def test_test_orders_earn_only_when_the_merchant_allows_it(client, send):
    send("orders/paid", order(subtotal="20.00", test=True))
    assert balance(client) == 0
    set_program(client, award_test_orders=True)
    send("orders/paid", order(subtotal="20.00", test=True))
    assert balance(client) == 20


def test_the_subtotal_is_read_in_shop_money_not_presentment_money(client, send):
    paid = order(subtotal="999.00", subtotal_price_set={"shop_money": {"amount": "45.90", "currency_code": "USD"},
                                                        "presentment_money": {"amount": "61.00", "currency_code": "CAD"}})
    send("orders/paid", paid)
    assert balance(client) == 45


def test_an_order_paid_twice_under_two_webhook_ids_earns_once(client, send):
    paid = order(subtotal="40.00")
    send("orders/paid", paid)
    send("orders/paid", paid)
    assert balance(client) == 40
    assert len(member(client)["ledger"]) == 1


def test_refunds_take_back_at_most_what_the_order_still_holds(client, send):
    paid = order(subtotal="50.00")
    send("orders/paid", paid)
    send("refunds/create", refund(paid["id"], "30.00"))
    assert balance(client) == 20
    send("refunds/create", refund(paid["id"], "30.00"))
    assert balance(client) == 0


def test_refunds_use_the_rate_the_order_earned_at(client, send):
    paid = order(subtotal="10.00")
    send("orders/paid", paid)
    set_program(client, points_per_currency_unit="10")
    send("refunds/create", refund(paid["id"], "4.00"))
    assert balance(client) == 6


def test_a_refunded_gift_card_takes_nothing_back(client, send):
    paid = order(subtotal="60.00", line_items=[{"gift_card": True, "price": "20.00", "quantity": 1}])
    send("orders/paid", paid)
    assert balance(client) == 40
    send("refunds/create", refund(paid["id"], "20.00", gift_card=True))
    assert balance(client) == 40


def test_refund_after_cancel_takes_nothing_more(client, send):
    paid = order(subtotal="50.00")
    send("orders/paid", paid)
    send("orders/cancelled", {**paid, "cancelled_at": "2026-11-21T10:00:00Z"})
    assert balance(client) == 0
    send("refunds/create", refund(paid["id"], "50.00"))
    assert balance(client) == 0
    assert sorted(e["delta"] for e in member(client)["ledger"]) == [-50, 50]


def test_a_cancellation_delivered_twice_takes_back_once(client, send):
    first, second = order(subtotal="50.00"), order(subtotal="20.00")
    send("orders/paid", first)
    send("orders/paid", second)
    send("orders/cancelled", first)
    send("orders/cancelled", first)
    assert balance(client) == 20


def test_a_reversal_may_leave_a_negative_balance_as_it_is(client, send):
    paid = order(subtotal="50.00")
    send("orders/paid", paid)
    spent = client.post("/api/members/7001/adjustments", json={"points": -50, "reason": "spent in store"}, headers=auth())
    assert spent.status_code == 201 and spent.get_json()["balance"] == 0
    send("refunds/create", refund(paid["id"], "20.00"))
    assert balance(client) == -20
    assert member(client)["lifetime_earned"] == 50


def test_signup_bonus_is_granted_once_whenever_the_customer_arrives(client, installed, send):
    set_program(client, signup_bonus=100)
    send("orders/paid", order(subtotal="10.00"))
    send("customers/create", customer())
    send("customers/create", customer())
    ada = member(client)
    assert (ada["balance"], ada["lifetime_earned"], ada["first_name"]) == (110, 110, "Ada")


def test_a_stale_customer_update_does_not_overwrite_a_newer_one(client, send):
    send("customers/update", customer(email="new@example.com", updated_at="2026-11-10T10:00:00Z"))
    send("customers/update", customer(email="old@example.com", updated_at="2026-11-02T10:00:00Z"))
    assert member(client)["email"] == "new@example.com"
    send("customers/update", customer(email="newest@example.com", last_name="King", updated_at="2026-11-12T10:00:00Z"))
    assert (member(client)["email"], member(client)["last_name"]) == ("newest@example.com", "King")


def test_an_order_email_never_overwrites_the_customer_record(client, send):
    send("customers/create", customer(email="profile@example.com"))
    send("orders/paid", order(subtotal="5.00", email="checkout@example.com"))
    assert member(client)["email"] == "profile@example.com"


EVENTS = ["paid", "refund_a", "refund_b", "cancel"]


@pytest.mark.parametrize("arrival", list(itertools.permutations(EVENTS)), ids="-".join)
def test_balances_do_not_depend_on_the_order_of_arrival(client, send, arrival):
    paid = order(order_id=777, subtotal="100.00")
    payloads = {
        "paid": ("orders/paid", paid),
        "refund_a": ("refunds/create", refund(777, "30.00", refund_id=1)),
        "refund_b": ("refunds/create", refund(777, "20.00", refund_id=2)),
        "cancel": ("orders/cancelled", paid),
    }
    steps = []
    for name in arrival:
        send(*payloads[name])
        steps.append(name)
        held = 0 if "cancel" in steps or "paid" not in steps else 100 - 30 * ("refund_a" in steps) - 20 * ("refund_b" in steps)
        assert (balance(client) or 0) == held, steps


@pytest.mark.parametrize("arrival", list(itertools.permutations(["paid", "refund_a", "refund_b"])), ids="-".join)
def test_refunds_in_any_order_are_capped_by_the_award(client, send, arrival):
    paid = order(order_id=778, subtotal="40.00")
    payloads = {
        "paid": ("orders/paid", paid),
        "refund_a": ("refunds/create", refund(778, "30.00", refund_id=11)),
        "refund_b": ("refunds/create", refund(778, "25.00", refund_id=12)),
    }
    for name in arrival:
        send(*payloads[name])
    assert balance(client) == 0
    assert sum(e["delta"] for e in member(client)["ledger"] if e["delta"] < 0) == -40


def test_a_shop_in_rupiah_earns_past_two_to_the_31_points_and_gives_them_back_exactly(app, client, send):
    """IDR: a 3,000,000,000 order is ordinary lifetime spend; 32-bit points overflowed here."""
    big = order(subtotal="3000000000.00")
    send("orders/paid", big)
    assert balance(client) == 3_000_000_000
    send("orders/paid", order(subtotal="2500000000.00"))
    assert (balance(client), member(client)["lifetime_earned"]) == (5_500_000_000, 5_500_000_000)
    adjusted = client.post("/api/members/7001/adjustments", json={"points": -1_000_000, "reason": "fix", "confirm": True},
                           headers=auth())
    assert adjusted.status_code == 201 and adjusted.get_json()["balance"] == 5_499_000_000
    send("refunds/create", refund(big["id"], "1000000000.00"))
    assert balance(client) == 4_499_000_000
    send("orders/cancelled", big)
    assert balance(client) == 2_499_000_000
    assert app.test_cli_runner().invoke(args=["verify-ledger"]).exit_code == 0
