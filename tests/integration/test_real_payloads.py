"""Real webhook bodies (tests/recordings/real, SOURCES says where each comes from), replayed
through the signed intake, with the balances they must leave worked out here.

The shop earns 1 point per 1.00 (SPEC's default) and excludes gift cards.
"""
import json

import pytest
from sqlalchemy import select

from plugin.db import transaction
from plugin.models import EventStatus, LedgerEntry, OrderRecord, WebhookEvent
from tests.helpers import RECORDINGS, auth, balance, order, signed_webhook, table_counts
from tests.plugin.loyalty.rules.test_product_cache import DOUBLE_TEA, TEA, add_rule, line, store  # noqa: F401

REAL = RECORDINGS / "real"
BOB = 207119551  # the customer of Shopify's sample order 450789469


def payload(name: str) -> dict:
    return json.loads((REAL / name).read_text())["payload"]


ORDER_1001 = payload("shopify_order_450789469_paid_partially_refunded.json")
REFUND_1001 = payload("shopify_refund_509562969.json")
TEST_NOTIFICATION = payload("shopify_test_notification_order_820982911946154508.json")


def entries(db) -> list[tuple]:
    return sorted((e.kind.value, e.source_id, e.delta) for e in db.execute(
        select(LedgerEntry.kind, LedgerEntry.source_id, LedgerEntry.delta)))


# Order #1001: subtotal_price 597.00 earns 597. Its lines are worth 199 less their share of the
# TENOFF code: green 195.66, red 195.67, black 195.67. The refund inside gives back the black
# and the green line, 195.67 + 195.66 = 391.33 of what they earned: 391 points. 597 - 391 = 206.
ORDER_1001_BALANCE = 597 - 391
ORDER_1001_ENTRIES = [("order_award", "450789469", 597), ("refund_reversal", "509562969", -391)]


def test_order_1001_arrives_paid_with_its_refund_inside_and_the_refund_counts_once(client, installed, send, db):
    send("orders/paid", ORDER_1001)
    assert balance(client, BOB) == ORDER_1001_BALANCE
    assert entries(db) == ORDER_1001_ENTRIES
    send("refunds/create", REFUND_1001)  # the same refund on its own webhook, later
    assert balance(client, BOB) == ORDER_1001_BALANCE
    assert entries(db) == ORDER_1001_ENTRIES


def test_order_1001_after_its_refund_leaves_the_same_ledger(client, installed, send, db):
    send("refunds/create", REFUND_1001)
    send("orders/paid", ORDER_1001)
    assert balance(client, BOB) == ORDER_1001_BALANCE
    assert entries(db) == ORDER_1001_ENTRIES


def test_order_1001_on_orders_updated_alone_earns_as_its_orders_paid_would(client, installed, send, db):
    send("orders/updated", ORDER_1001)  # its orders/paid was missed
    assert balance(client, BOB) == ORDER_1001_BALANCE
    send("orders/paid", ORDER_1001)  # arriving after all: earns once
    send("refunds/create", REFUND_1001)
    assert entries(db) == ORDER_1001_ENTRIES


def test_a_cancelled_test_order_earns_nothing_and_records_its_cancellation(client, installed, send, db):
    send("orders/paid", TEST_NOTIFICATION)
    assert balance(client, 115310627314723954) == 0  # a member, with nothing
    assert entries(db) == []
    record = db.scalar(select(OrderRecord).where(OrderRecord.order_id == 820982911946154508))
    assert (record.earned_points, record.cancelled_at is not None) == (0, True)


def test_updates_that_tell_nothing_new_change_nothing(client, installed, send, db):
    paid = order(customer_id=7001, subtotal="40.00")
    send("orders/paid", paid)
    before = {name: count for name, count in table_counts(db).items() if name != "webhook_events"}
    send("orders/updated", {**paid, "note": "gift wrap", "fulfillment_status": "fulfilled"})
    send("orders/updated", {**order(customer_id=7001), "financial_status": "pending"})  # not paid yet
    send("orders/updated", {**order(customer_id=None), "financial_status": "paid"})  # a guest's
    send("orders/updated", {**order(customer_id=7001), "financial_status": "voided"})
    assert {name: count for name, count in table_counts(db).items() if name != "webhook_events"} == before
    assert balance(client) == 40


def test_an_embedded_refund_that_cannot_be_read_fails_the_delivery_and_changes_nothing(client, installed, settle, db):
    broken = {**order(customer_id=7001), "refunds": [{"refund_line_items": []}]}  # a refund without its id
    before = {name: count for name, count in table_counts(db).items() if name != "webhook_events"}
    for topic in ("orders/paid", "orders/updated"):
        assert signed_webhook(client, topic, broken).status_code == 200
    settle()
    failed = db.execute(select(WebhookEvent.status, WebhookEvent.last_error)).all()
    assert failed == [(EventStatus.FAILED, "payload lacks the required field 'id'")] * 2
    assert {name: count for name, count in table_counts(db).items() if name != "webhook_events"} == before


def test_orders_that_cannot_earn_never_wait_for_product_facts_or_call_the_platform(store):
    """A rule on product type is active and the platform is down: an order that can earn
    waits for its products' facts; one that cannot is decided at once, with no call."""
    add_rule(store.client, DOUBLE_TEA)
    store.mock.post("https://rosebud-tea.myshopify.com/admin/api/2026-10/graphql.json", status=503)
    gift_card = {**line(2, TEA, "50.00"), "gift_card": True}
    cannot_earn = [
        TEST_NOTIFICATION,  # a test order, cancelled, voided
        order(customer_id=None, line_items=[line(1, TEA, "40.00")]),  # a guest's
        order(customer_id=7001, subtotal="50.00", line_items=[gift_card]),  # only a gift card
        order(customer_id=7001, tags="wholesale", line_items=[line(3, TEA, "40.00")]),  # an excluded tag
        order(customer_id=7001, cancelled_at="2026-11-20T12:00:00Z", line_items=[line(4, TEA, "40.00")]),
    ]
    assert store.client.patch("/api/program", json={"excluded_order_tags": ["wholesale"]},
                              headers=auth()).status_code == 200
    for body in cannot_earn:
        store.deliver("orders/paid", body)
    assert store.calls() == []
    with store.app.app_context(), transaction() as session:
        states = session.execute(select(WebhookEvent.status, WebhookEvent.last_error)).all()
    assert states == [(EventStatus.PROCESSED, None)] * len(cannot_earn)
    store.deliver("orders/paid", order(customer_id=7001, subtotal="40.00", line_items=[line(5, TEA, "40.00")]))
    assert store.calls() != []  # this one can earn: it asks, and waits


@pytest.mark.parametrize("topic", ["orders/paid", "orders/updated"])
def test_a_paid_order_carrying_its_cancellation_takes_back_nothing_it_never_gave(client, installed, send, db, topic):
    cancelled = order(customer_id=7001, subtotal="40.00", cancelled_at="2026-11-20T12:00:00Z")
    send(topic, cancelled)
    send("orders/cancelled", cancelled)
    assert entries(db) == [] and balance(client) == 0
