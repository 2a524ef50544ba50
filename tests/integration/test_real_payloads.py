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
REFERENCE_ORDER = payload("shopify_webhook_reference_2026_07_orders_paid_820982911946154508.json")
REFERENCE_MERGE = payload("shopify_webhook_reference_2026_07_customers_merge_failed.json")
AUTHORIZED_1001 = payload("shopify_python_api_order_450789469_authorized.json")
BOB_PROFILE = payload("shopify_python_api_customer_207119551.json")
PLN_ORDERS = [payload("erp_addons_pln_order_100500.json"), payload("erp_addons_pln_order_100510.json")]
AUD_TEST_ORDER = payload("bag_server_aud_test_order_1030.json")
AUD_SHOP_USD_ORDER = payload("bag_server_aud_shop_usd_presentment_test_order_1029.json")


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


def subtotal_mismatches(client) -> list[dict]:
    return client.get("/api/orders/subtotal-mismatches", headers=auth()).get_json()["orders"]


def test_order_1001_is_listed_its_subtotal_disagreeing_with_its_lines(client, installed, send):
    # subtotal_price 597.00, but its lines say 597.00 - 10.00 (TENOFF) = 587.00: points follow 597.
    send("orders/paid", ORDER_1001)
    [listed] = subtotal_mismatches(client)
    assert (listed["order_id"], listed["subtotal_price"], listed["lines_subtotal"], listed["difference"]) == (
        "450789469", "597", "587", "-10")


def test_the_references_orders_paid_sample_earns_nothing_and_is_listed(client, installed, send, db):
    # A test order, cancelled and voided: nothing to earn. Its subtotal 404.95 is not its lines'
    # 414.95 - 20.00 = 394.95, so it is listed all the same.
    send("orders/paid", REFERENCE_ORDER)
    assert entries(db) == [] and balance(client, 115310627314723954) == 0
    [listed] = subtotal_mismatches(client)
    assert (listed["name"], listed["lines_subtotal"], listed["difference"], listed["earned_points"]) == (
        "#9999", "394.95", "-10", 0)


def test_the_references_failed_merge_changes_nothing(client, installed, send, db):
    send("orders/paid", order(customer_id=1, subtotal="10.00"))
    send("orders/paid", order(customer_id=2, subtotal="20.00"))
    before = {name: count for name, count in table_counts(db).items() if name != "webhook_events"}
    send("customers/merge", REFERENCE_MERGE)
    assert (balance(client, 1), balance(client, 2)) == (10, 20)
    assert {name: count for name, count in table_counts(db).items() if name != "webhook_events"} == before


def test_an_authorized_order_waits_for_payment_then_earns_its_subtotal(client, installed, send, db):
    send("orders/updated", AUTHORIZED_1001)           # authorized, not paid: nothing
    assert balance(client, BOB) is None and entries(db) == []
    send("orders/paid", AUTHORIZED_1001)              # subtotal_price 398.00
    assert balance(client, BOB) == 398 and entries(db) == [("order_award", "450789469", 398)]


def test_a_customer_created_from_the_libraries_fixture_is_a_member_with_their_name(client, installed, send):
    send("customers/create", BOB_PROFILE)
    found = client.get(f"/api/members/{BOB}", headers=auth()).get_json()
    assert (found["email"], found["first_name"], found["last_name"], found["balance"]) == (
        "bob.norman@hostmail.com", "Bob", "Norman", 0)


def test_a_pln_shops_orders_earn_their_subtotals(client, installed, send, db):
    for body in PLN_ORDERS:
        send("orders/paid", body)
    assert balance(client, 6670178025000) == 1746 and balance(client, 22299318910000) == 1723
    assert entries(db) == [("order_award", "100500", 1746), ("order_award", "100510", 1723)]
    assert subtotal_mismatches(client) == []


def test_a_live_shops_test_orders_earn_only_when_test_orders_do_and_in_shop_money(client, installed, send, db):
    send("orders/paid", AUD_TEST_ORDER)
    assert balance(client, 4206822293653) == 0 and entries(db) == []      # test orders earn nothing by default
    assert client.patch("/api/program", json={"award_test_orders": True}, headers=auth()).status_code == 200
    send("orders/paid", AUD_SHOP_USD_ORDER)           # shop money 45.62 AUD, shown to the shopper as 34.67 USD
    assert balance(client, 4206822293653) == 45
    assert entries(db) == [("order_award", "2998548365461", 45)]
