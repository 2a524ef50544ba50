"""Many deliveries at once: balances must come out exact, with nothing doubled or lost.

These tests commit for real from many threads (and, in the services pass, are processed by
the real RQ workers), because a rolled-back test transaction could not show a race.
"""
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import requests

from plugin.db import transaction
from plugin.loyalty.earning.rules import OrderFacts
from plugin.loyalty.ledger.orders import RefundFacts, award_points_for_order, reverse_order_award, reverse_refund
from plugin.loyalty.orders import shop_context
from tests.helpers import API_SECRET, SHOP, all_at_once, balance, member, order, refund
from webhooks.verification import signature


def post_webhook(base_url: str, topic: str, payload: dict) -> int:
    import json
    import uuid

    body = json.dumps(payload).encode()
    return requests.post(f"{base_url}/webhooks", data=body, timeout=30, headers={
        "X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": SHOP, "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Hmac-Sha256": signature(API_SECRET, body), "Content-Type": "application/json"}).status_code


def test_fifty_orders_of_one_customer_delivered_in_parallel_end_with_the_exact_balance(
        app, client, live_server, settle):
    orders = [order(order_id=10_000 + n, subtotal=f"{n + 1}.50") for n in range(50)]
    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(lambda o: post_webhook(live_server, "orders/paid", o), orders))
    settle()
    assert answers == [200] * 50
    expected = sum(n + 1 for n in range(50))  # each x.50 floors to x
    assert (member(client)["balance"], member(client)["lifetime_earned"]) == (expected, expected)
    assert app.test_cli_runner().invoke(args=["verify-ledger"]).exit_code == 0


def test_refunds_and_cancellations_racing_their_orders_end_at_zero(app, client, live_server, settle):
    deliveries = []
    for n in range(20):
        paid = order(order_id=20_000 + n, subtotal="10.00")
        deliveries += [("orders/paid", paid), ("refunds/create", refund(paid["id"], "4.00")),
                       ("orders/cancelled", paid)]
    with ThreadPoolExecutor(30) as pool:
        answers = list(pool.map(lambda d: post_webhook(live_server, *d), deliveries))
    settle()
    assert answers == [200] * 60
    assert balance(client) == 0
    assert app.test_cli_runner().invoke(args=["verify-ledger"]).exit_code == 0


def run_in_threads(app, count: int, work) -> None:
    """Start `count` threads together, each running `work(session, n)` in its own transaction."""

    def run(n):
        with app.app_context(), transaction() as session:
            work(session, n)

    all_at_once(count, run)


def facts(order_id: int, subtotal: str = "10.00") -> OrderFacts:
    return OrderFacts(order_id=order_id, name=None, customer_id=7001, email=None,
                      subtotal=Decimal(subtotal), gift_card_total=Decimal(0))


def test_fifty_concurrent_awards_for_one_member_lose_no_update(app, client):
    with app.app_context(), transaction() as session:
        shop = shop_context(session, SHOP)
    run_in_threads(app, 50, lambda session, n: award_points_for_order(session, shop.id, facts(30_000 + n), shop.rules))
    assert balance(client) == 500


def test_one_order_awarded_from_twenty_transactions_at_once_earns_once(app, client):
    with app.app_context(), transaction() as session:
        shop = shop_context(session, SHOP)
    run_in_threads(app, 20, lambda session, n: award_points_for_order(session, shop.id, facts(40_000), shop.rules))
    assert balance(client) == 10 and len(member(client)["ledger"]) == 1


def test_an_award_racing_its_refund_and_cancellation_ends_at_zero(app, client):
    with app.app_context(), transaction() as session:
        shop = shop_context(session, SHOP)
    steps = [
        lambda s: award_points_for_order(s, shop.id, facts(50_000, "100.00"), shop.rules),
        lambda s: reverse_refund(s, shop.id, RefundFacts(1, 50_000, Decimal("30.00"))),
        lambda s: reverse_refund(s, shop.id, RefundFacts(2, 50_000, Decimal("90.00"))),
        lambda s: reverse_order_award(s, shop.id, 50_000, __import__("plugin.db").db.utcnow()),
    ]
    run_in_threads(app, len(steps), lambda session, n: steps[n](session))
    assert balance(client) == 0
    assert sum(e["delta"] for e in member(client)["ledger"] if e["delta"] < 0) == -100
