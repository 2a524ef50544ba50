"""Bad input (issue 16): answered 400 or 422 naming the problem, or failed at once as a
webhook with a readable error, and in every case nothing else changed.

Each test starts the shop with a paid order (member 7001 holds 50 points), so the admin API
serves it, then checks the answer, the balance and the row counts of every table.
"""
import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from plugin.db import transaction
from plugin.loyalty.earning.rules import line_amount
from plugin.models import EventStatus, WebhookEvent
from tests.helpers import auth, balance, member, order, signed_webhook, table_counts
from webhooks.handlers.payloads import PayloadError, money
from webhooks.processing import drain_due_events

DEEP = 100_000  # past the parser's recursion limit: RecursionError, a 500 before


@pytest.fixture
def fifty(client, send):
    """The shop, known from a webhook, and member 7001 with 50 points."""
    send("orders/paid", order(subtotal="50.00"))
    assert balance(client) == 50


def reward_id(client) -> int:
    return client.get("/api/rewards", headers=auth()).get_json()["rewards"][0]["id"]


def nested(levels: int) -> bytes:
    """A reason nested `levels` deep, counting the body's own object as the first level."""
    return b'{"points": 5, "reward_id": 1, "reason": ' + b"[" * (levels - 1) + b"]" * (levels - 1) + b"}"


def send_raw(client, method: str, path: str, body: bytes):
    return getattr(client, method)(path, data=body, headers={**auth(), "Content-Type": "application/json"})


BODY_ROUTES = [("patch", "/api/program"), ("post", "/api/members/7001/adjustments"), ("post", "/api/rewards"),
               ("patch", "/api/rewards/{reward}"), ("post", "/api/members/7001/redemptions")]
UNREADABLE = {
    "nested past the parser's limit": (b'{"reason": ' + b"[" * DEEP + b"]" * DEEP + b"}", "nested more than 64"),
    "nested 65 deep": (nested(65), "nested more than 64"),
    "not UTF-8": (b'{"points": 5, "reason": "caf\xe9"}', "not UTF-8"),
}


@pytest.mark.parametrize("method, path", BODY_ROUTES, ids=lambda v: v if v.startswith("/") else None)
@pytest.mark.parametrize("kind", list(UNREADABLE))
def test_a_body_no_route_can_read_is_400_on_every_route_and_changes_nothing(client, db, fifty, method, path, kind):
    body, problem = UNREADABLE[kind]
    before = table_counts(db)
    response = send_raw(client, method, path.format(reward=reward_id(client)), body)
    assert response.status_code == 400 and problem in response.get_json()["error"]
    assert table_counts(db) == before and balance(client) == 50


def test_nesting_up_to_64_levels_reaches_the_route_which_names_the_field(client, db, fifty):
    before = table_counts(db)
    response = send_raw(client, "post", "/api/members/7001/adjustments", nested(64))
    assert response.status_code == 422 and list(response.get_json()["fields"]) == ["reason"]
    assert table_counts(db) == before and balance(client) == 50


@pytest.mark.parametrize("reason", [b'"\\ud800"', b'"tea \\udc00 time"', b'"\\udfff\\ud800"', b'"\xed\xa0\x80"'],
                         ids=["high alone", "low alone", "pair reversed", "encoded in the bytes"])
def test_a_lone_surrogate_in_an_adjustment_reason_is_422_naming_reason(client, db, fifty, reason):
    before = table_counts(db)
    response = send_raw(client, "post", "/api/members/7001/adjustments", b'{"points": 5, "reason": ' + reason + b"}")
    assert response.status_code == 422
    assert list(response.get_json()["fields"]) == ["reason"] and "surrogate" in response.get_json()["fields"]["reason"]
    assert table_counts(db) == before and balance(client) == 50


def test_a_surrogate_pair_is_a_character_and_is_kept(client, fifty):
    response = send_raw(client, "post", "/api/members/7001/adjustments",
                        b'{"points": 5, "reason": "\\ud83c\\udf75 tea on the house"}')
    assert response.status_code == 201 and response.get_json()["balance"] == 55
    assert member(client)["ledger"][0]["reason"] == "\U0001F375 tea on the house"


def test_a_lone_surrogate_in_a_reward_name_is_422_naming_name(client, db, fifty):
    catalog = client.get("/api/rewards", headers=auth()).get_json()
    before = table_counts(db)
    created = send_raw(client, "post", "/api/rewards",
                       b'{"name": "5 off \\ud800", "kind": "amount_off", "value": "5", "points_cost": 500}')
    changed = send_raw(client, "patch", f"/api/rewards/{reward_id(client)}", b'{"name": "\\udfff"}')
    for response in (created, changed):
        assert response.status_code == 422 and list(response.get_json()["fields"]) == ["name"]
        assert "surrogate" in response.get_json()["fields"]["name"]
    assert table_counts(db) == before and client.get("/api/rewards", headers=auth()).get_json() == catalog


def test_a_lone_surrogate_in_an_excluded_tag_is_422_naming_the_setting(client, db, fifty):
    program = client.get("/api/program", headers=auth()).get_json()
    before = table_counts(db)
    response = send_raw(client, "patch", "/api/program", b'{"excluded_order_tags": ["vip", "\\ud800"]}')
    assert response.status_code == 422 and list(response.get_json()["fields"]) == ["excluded_order_tags"]
    assert table_counts(db) == before and client.get("/api/program", headers=auth()).get_json() == program


@pytest.mark.parametrize("query, field", [
    ("page=9223372036854775807", "page"),
    ("page=100001", "page"),
    ("page=0", "page"),
    ("query=ada%00", "query"),
    ("query=%00", "query"),
    ("query=" + "a" * 321, "query"),
])
def test_a_member_search_past_its_bounds_is_422_naming_the_parameter(client, db, fifty, query, field):
    before = table_counts(db)
    response = client.get(f"/api/members?{query}", headers=auth())
    assert response.status_code == 422 and list(response.get_json()["fields"]) == [field]
    assert table_counts(db) == before


def test_the_last_page_allowed_is_answered_empty(client, fifty):
    response = client.get("/api/members?page=100000&query=ada", headers=auth())
    assert response.status_code == 200 and response.get_json()["members"] == []
    assert response.get_json()["total"] == 1


# Webhooks that can never succeed: each must fail after one attempt, not be retried.

def assert_failed_at_once(db, topic: str, problem: str) -> None:
    event = db.scalars(select(WebhookEvent).where(WebhookEvent.topic == topic).order_by(WebhookEvent.id.desc())).first()
    assert (event.status, event.attempts) == (EventStatus.FAILED, 1), event.last_error
    assert problem in event.last_error


def one_more_event(before: dict) -> dict:
    return {**before, "webhook_events": before["webhook_events"] + 1}


TOO_MUCH = "must be less than 1,000,000,000,000 either way"
DEEP_ORDER = json.dumps(order(order_id=1)).encode()[:-1] + b', "x": ' + b"[" * DEEP + b"]" * DEEP + b"}"
BAD_ORDERS = {
    "subtotal 1e30": (order(subtotal="1e30"), "'subtotal_price' " + TOO_MUCH),
    "subtotal 1e30 as a JSON number": (order(subtotal=1e30), "'subtotal_price' " + TOO_MUCH),
    "subtotal 1e12": (order(subtotal="1e12"), TOO_MUCH),
    "subtotal -1e12": (order(subtotal="-1000000000000.00"), TOO_MUCH),
    "subtotal rounding up to 1e12": (order(subtotal="999999999999.9999995"), TOO_MUCH),
    "subtotal of 40 digits": (order(subtotal="1" * 40), TOO_MUCH),
    "subtotal NaN": (order(subtotal="NaN"), "must be a finite amount"),
    "subtotal Infinity": (order(subtotal="Infinity"), "must be a finite amount"),
    "shop money 1e30": (order(subtotal_price_set={"shop_money": {"amount": "1e30"}}),
                        "'subtotal_price_set.shop_money.amount' " + TOO_MUCH),
    "gift-card price 1e30": (order(line_items=[{"gift_card": True, "price": "1e30", "quantity": 1}]), TOO_MUCH),
    "gift-card quantity 1e15": (order(line_items=[{"gift_card": True, "price": "1", "quantity": 10**15}]),
                                "'line_items.quantity' must be a whole number from 0 to 1,000,000,000"),
    "price × quantity past the column": (order(line_items=[{"price": "999999999.00", "quantity": 999999}]),
                                         "'line_items price × quantity' " + TOO_MUCH),
    "nested past the parser's limit": (DEEP_ORDER, "nested too deeply"),
    "a lone surrogate in the name": (order(name="#1001\ud800"), "lone surrogate"),
    "a lone surrogate in an email": (order(customer={"id": 7001, "email": "ada\udc00@example.com"}), "lone surrogate"),
    "a lone surrogate in a key": (order(note_attributes={"\ud800": "x"}), "lone surrogate"),
}


@pytest.mark.parametrize("kind", list(BAD_ORDERS))
def test_an_order_that_can_never_be_read_fails_at_once_and_changes_nothing(client, db, settle, fifty, kind):
    payload, problem = BAD_ORDERS[kind]
    before = table_counts(db)
    assert signed_webhook(client, "orders/paid", payload).status_code == 200
    settle()
    assert_failed_at_once(db, "orders/paid", problem)
    assert table_counts(db) == one_more_event(before) and balance(client) == 50


def big_refund(order_id: int, *amounts: str) -> dict:
    lines = [{"id": n, "quantity": 1, "subtotal": amount, "line_item": {"id": n, "gift_card": False}}
             for n, amount in enumerate(amounts, 1)]
    return {"id": 509562999, "order_id": order_id, "restock": True, "refund_line_items": lines}


@pytest.mark.parametrize("amounts, problem", [
    (("1e30",), "'subtotal' " + TOO_MUCH),
    (("600000000000", "600000000000"), "'refund_line_items subtotal (all lines)' " + TOO_MUCH),
    (("Infinity",), "must be a finite amount"),
], ids=["one line of 1e30", "two lines summing past 1e12", "Infinity"])
def test_a_refund_too_large_to_store_fails_at_once_and_takes_nothing(client, db, send, settle, amounts, problem):
    paid = order(subtotal="50.00")
    send("orders/paid", paid)
    before = table_counts(db)
    assert signed_webhook(client, "refunds/create", big_refund(paid["id"], *amounts)).status_code == 200
    settle()
    assert_failed_at_once(db, "refunds/create", problem)
    assert table_counts(db) == one_more_event(before) and balance(client) == 50


def test_the_largest_amount_the_column_holds_is_accepted(client, send):
    send("orders/paid", order(subtotal="999999999999.99"))
    assert balance(client) == 999_999_999_999


def test_a_bad_order_in_a_batch_fails_alone_without_one_by_one_retries(inprocess_app, db, monkeypatch):
    client = inprocess_app.test_client()
    monkeypatch.setattr("webhooks.intake.signal_drain", lambda trigger: None)
    retried = []
    monkeypatch.setattr("webhooks.processing._process_one", retried.append)
    for payload in (order(subtotal="10.00"), order(subtotal="1e30"), order(subtotal="20.00")):
        assert signed_webhook(client, "orders/paid", payload).status_code == 200
    with inprocess_app.app_context():
        drain_due_events()
    statuses = [e.status for e in db.scalars(select(WebhookEvent).order_by(WebhookEvent.id))]
    assert statuses == [EventStatus.PROCESSED, EventStatus.FAILED, EventStatus.PROCESSED]
    assert retried == [] and balance(client) == 30


# A line never contributes below zero nor more than its own amount (gift cards are excluded).

def gift_card(price: str, quantity=1, discount: str = "0.00") -> dict:
    return {"gift_card": True, "price": price, "quantity": quantity, "total_discount": discount}


def test_a_gift_card_line_can_neither_add_points_nor_take_more_than_itself(client, send):
    send("orders/paid", order(subtotal="10.00", line_items=[gift_card("-100.00")]))
    assert balance(client) == 10  # earned 110 before: 10 less a line worth -100
    send("orders/paid", order(subtotal="10.00", line_items=[gift_card("25.00", quantity=-2)]))
    assert balance(client) == 20  # 60 before
    send("orders/paid", order(subtotal="60.00", line_items=[gift_card("20.00", discount="50.00")]))
    assert balance(client) == 80  # a discount past the line leaves it worth 0, not -30
    send("orders/paid", order(subtotal="60.00", line_items=[gift_card("20.00", discount="-30.00")]))
    assert balance(client) == 120  # a negative discount leaves it worth its own 20, not 50
    send("orders/paid", order(subtotal="100.00", line_items=[gift_card("20.00", quantity=2, discount="5.00")]))
    assert balance(client) == 185  # an ordinary gift card: 100 less 35


def test_a_refund_line_below_zero_cancels_nothing_the_other_lines_refund(client, send):
    paid = order(subtotal="50.00")
    send("orders/paid", paid)
    assert balance(client) == 50
    assert client.patch("/api/program", json={"exclude_gift_cards": False}, headers=auth()).status_code == 200
    refund = big_refund(paid["id"], "10.00", "-100.00")
    refund["refund_line_items"][1]["line_item"]["gift_card"] = True
    send("refunds/create", refund)
    assert balance(client) == 40  # took nothing before: 10 + -100 is below zero
    send("refunds/create", {**big_refund(paid["id"], "-30.00"), "id": 509563000})
    assert balance(client) == 40


@pytest.mark.parametrize("price, quantity, discount, worth", [
    ("25", 2, "5", "45"), ("-100", 1, "0", "0"), ("25", -2, "0", "0"), ("20", 1, "50", "0"), ("20", 1, "-30", "20"),
])
def test_a_line_is_worth_between_zero_and_its_own_amount(price, quantity, discount, worth):
    assert line_amount(Decimal(price), Decimal(quantity), Decimal(discount)) == Decimal(worth)


@pytest.mark.parametrize("value", ["999999999999.999999", "-999999999999.999999", "0.0000004", "19.99"])
def test_money_up_to_what_numeric_18_6_holds_is_read(value):
    assert abs(money(value, "x")) < 10**12


@pytest.mark.parametrize("value", ["1e12", "999999999999.9999995", "1E+999999999", "sNaN", "-Infinity"])
def test_money_past_what_numeric_18_6_holds_is_refused(value):
    with pytest.raises(PayloadError):
        money(value, "x")


# Ids that are not plain 64-bit numbers, and NUL characters


@pytest.mark.parametrize("path, status", [
    ("/api/members/%C2%B2", 404),
    ("/api/members/99999999999999999999999", 404),
    ("/api/members?query=%C2%B2", 200),
    ("/api/members?page=%C2%B2", 422),
    ("/api/members?page=99999999999999999999999", 422),
    ("/api/events/99999999999999999999999/retry", 404),
    ("/api/data-requests/99999999999999999999999", 404),
])
def test_ids_that_are_not_plain_64_bit_numbers_are_answered_not_crashed(client, installed, db, path, status):
    before = table_counts(db)
    method = client.post if path.endswith("/retry") else client.get
    assert method(path, headers=auth()).status_code == status
    assert table_counts(db) == before


@pytest.mark.parametrize("reward_id", ["²", "99999999999999999999999", True, None, "1.0"])
def test_a_redemption_naming_an_odd_reward_id_is_404_and_spends_nothing(client, installed, send, reward_id):
    send("orders/paid", order(subtotal="600.00"))
    response = client.post("/api/members/7001/redemptions", json={"reward_id": reward_id}, headers=auth())
    assert response.status_code == 404 and balance(client) == 600
    assert client.patch("/api/rewards/%C2%B2", json={"active": False}, headers=auth()).status_code == 404


def test_a_webhook_with_a_unicode_digit_id_fails_at_once_instead_of_retrying(app, client, settle):
    signed_webhook(client, "orders/paid", order(order_id=1, subtotal="5.00") | {"id": "²"})
    settle()
    with app.app_context(), transaction() as session:
        event = session.query(WebhookEvent).one()
    assert (event.status, event.attempts) == (EventStatus.FAILED, 1) and "numeric id" in event.last_error


def test_nul_characters_are_stored_safely_or_refused(app, client, send, db):
    raw = signed_webhook(client, "orders/paid", b'{"id": 1\x00}')
    assert raw.status_code == 200
    send("orders/paid", order(subtotal="5.00", customer={"id": 7001, "email": "ada\u0000@example.com"}))
    assert member(client)["email"] == "ada@example.com" and balance(client) == 5
    named = client.post("/api/rewards", json={"name": "x\u0000y", "kind": "amount_off", "value": "1",
                                             "points_cost": 5}, headers=auth())
    assert named.status_code == 422
    reason = client.post("/api/members/7001/adjustments", json={"points": 1, "reason": "a\u0000"}, headers=auth())
    assert reason.status_code == 422 and balance(client) == 5
