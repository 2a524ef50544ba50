"""The theme's JSON through the app proxy: the launcher's panel, redeeming in place, and a
product page's "earn N points", each through requests signed as the proxy signs them."""
import json

import pytest
import requests
import responses

from tests.helpers import (
    SHOP,
    auth,
    balance,
    order,
    proxy_url,
    session_token,
    signed_webhook,
    table_counts,
    token_answer,
    token_endpoint,
)
from tests.plugin.loyalty.rewards.test_redemptions import GRAPHQL, created

CREATED = created()  # the Admin API's answer to a code made (as in the redemption tests)


@pytest.fixture
def installed(client):
    """An installed shop; the Admin API mocked for the test's length."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(token_endpoint(), json=token_answer())
        client.get("/", query_string={"shop": SHOP, "id_token": session_token()})
        yield mock


@pytest.fixture
def store(client, installed, settle):
    """Customer 7001 holds 650 points."""
    signed_webhook(client, "orders/paid", order(order_id=1001, subtotal="650.00"))
    settle()
    return installed


def panel(client, customer_id: str = "7001") -> dict:
    response = client.get(proxy_url("/proxy/panel.json", customer_id=customer_id))
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    return response.get_json()


def reward_id(client, name: str) -> str:
    return next(r["id"] for r in panel(client, "")["rewards"] if r["name"] == name)


def redeem(client, body, csrf: str | None, customer_id: str = "7001", **kwargs):
    headers = {} if csrf is None else {"X-Loyalty-Csrf": csrf}
    return client.post(proxy_url("/proxy/redemptions.json", customer_id=customer_id), headers=headers,
                       **({"json": body} if "data" not in kwargs else {}), **kwargs)


def test_a_logged_out_shopper_gets_the_program_and_rewards_and_a_sign_in_link(client, store, db):
    before = table_counts(db)
    answer = panel(client, "")
    assert answer["logged_in"] is False and "balance" not in answer and "csrf" not in answer
    assert answer["program"] == {"points_per_currency_unit": "1", "signup_bonus": 0, "birthday_bonus": 0,
                                 "referral_points": answer["program"]["referral_points"], "rules": []}
    assert [(r["name"], r["points_cost"]) for r in answer["rewards"]] == [
        ("Free shipping", 400), ("5 off your order", 500), ("10% off your order", 1000)]
    assert answer["login_url"] == "/account/login?return_url=/apps/loyalty"
    assert table_counts(db) == before


def test_a_member_sees_what_they_can_redeem_now_the_nearest_reward_and_their_history(client, store):
    answer = panel(client)
    assert answer["logged_in"] is True and answer["balance"] == 650 and answer["pending"] == 0
    names = {r["id"]: r["name"] for r in answer["rewards"]}
    assert [names[i] for i in answer["redeemable"]] == ["Free shipping", "5 off your order"]
    assert answer["nearest_reward"] == {"id": reward_id(client, "10% off your order"), "name": "10% off your order",
                                        "points_cost": 1000, "points_needed": 350}
    assert [(e["delta"], e["kind"], e["reason"]) for e in answer["entries"]] == [(650, "order_award",
                                                                                  "Order #1001 paid")]
    assert answer["codes"] == [] and answer["tier"] is None and answer["tier_progress"] is None
    assert answer["csrf"]


def test_a_shopper_who_is_not_a_member_yet_has_zero_and_nothing_is_written(client, store, db):
    before = table_counts(db)
    answer = panel(client, "8888")
    assert answer["balance"] == 0 and answer["entries"] == [] and answer["redeemable"] == []
    assert answer["nearest_reward"]["points_needed"] == 400
    assert table_counts(db) == before


def test_redeeming_in_place_answers_the_code_and_the_panel_after(client, store):
    store.post(GRAPHQL, json=CREATED)
    response = redeem(client, {"reward_id": reward_id(client, "5 off your order")}, panel(client)["csrf"])
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert answer["notice"] == "issued" and answer["panel"]["balance"] == 150 and balance(client) == 150
    code = answer["panel"]["codes"][0]
    assert code["code"] == answer["code"] and code["status"] == "issued" and code["reward"] == "5 off your order"
    assert code["apply_url"] == f"/discount/{answer['code']}?redirect=/cart"
    assert answer["panel"]["entries"][0]["delta"] == -500 and answer["panel"]["redeemable"] == []
    assert json.loads(client.get(proxy_url("/proxy/panel.json")).get_data())["codes"][0]["code"] == answer["code"]


def bad_redeems(client) -> dict:
    five_off, token = reward_id(client, "5 off your order"), panel(client)["csrf"]
    return {
        "no token": (dict(body={"reward_id": five_off}, csrf=None), 403, "expired-form"),
        "forged token": (dict(body={"reward_id": five_off}, csrf="123.abc"), 403, "expired-form"),
        "another shopper's token": (dict(body={"reward_id": five_off}, csrf=panel(client, "7002")["csrf"]),
                                    403, "expired-form"),
        "a form post, not JSON": (dict(body=None, csrf=token, data={"reward_id": five_off}), 403, "expired-form"),
        "logged out": (dict(body={"reward_id": five_off}, csrf=token, customer_id=""), 401, "signed-out"),
        "unknown reward": (dict(body={"reward_id": "999999"}, csrf=token), 404, "insufficient"),
        "no reward id": (dict(body={}, csrf=token), 404, "insufficient"),
        "body not an object": (dict(body=["x"], csrf=token), 404, "insufficient"),
        "too expensive": (dict(body={"reward_id": reward_id(client, "10% off your order")}, csrf=token),
                          409, "insufficient"),
    }


@pytest.mark.parametrize("kind", ["no token", "forged token", "another shopper's token", "a form post, not JSON",
                                  "logged out", "unknown reward", "no reward id", "body not an object",
                                  "too expensive"])
def test_a_bad_redeem_is_refused_and_spends_nothing(client, store, db, kind):
    call, status, notice = bad_redeems(client)[kind]
    before = table_counts(db)
    response = redeem(client, **call)
    assert response.status_code == status and response.get_json()["notice"] == notice
    assert table_counts(db) == before and balance(client) == 650


def test_an_unsigned_panel_or_redeem_request_is_refused(client, store, db):
    before = table_counts(db)
    assert client.get(f"/proxy/panel.json?shop={SHOP}&logged_in_customer_id=7001").status_code == 401
    assert client.post(f"/proxy/redemptions.json?shop={SHOP}&logged_in_customer_id=7001",
                       json={"reward_id": "1"}).status_code == 401
    assert client.get(f"/proxy/earn.json?shop={SHOP}&product_id=1&price=100").status_code == 401
    assert table_counts(db) == before and balance(client) == 650


def test_a_member_in_a_tier_sees_it_and_their_progress_to_the_next(client, installed, settle):
    for name, threshold, multiplier in (("Silver", 100, "1.5"), ("Gold", 1000, "2")):
        added = client.post("/api/tiers", json={"name": name, "threshold": threshold, "multiplier": multiplier},
                            headers=auth())
        assert added.status_code == 201, added.get_json()
    signed_webhook(client, "orders/paid", order(subtotal="150.00"))
    settle()
    answer = panel(client)
    assert answer["tier"] == {"name": "Silver", "multiplier": "1.5"}
    assert answer["tier_progress"]["next_tier"]["name"] == "Gold"
    assert answer["tier_progress"]["remaining"] == 1000 - answer["balance"]


def test_pending_points_and_the_next_expiry_are_in_the_panel(client, store, settle):
    changed = client.patch("/api/program", headers=auth(), json={
        "pending_days": 30, "expiry_policy": "fifo", "expiry_months": 12})
    assert changed.status_code == 200
    signed_webhook(client, "orders/paid", order(subtotal="80.00", processed_at="2099-01-01T10:00:00Z"))
    settle()
    answer = panel(client)
    assert answer["balance"] == 650 and answer["pending"] == 80
    assert answer["next_expiry"]["points"] == 650 and len(answer["next_expiry"]["expires_at"]) == 10


def earn(client, customer_id: str = "", **params):
    extra = [(key, str(v)) for key, values in params.items()
             for v in (values if isinstance(values, list) else [values])]
    return client.get(proxy_url("/proxy/earn.json", customer_id=customer_id, extra=extra))


def test_a_product_earns_the_base_rate_on_its_price(client, store):
    assert earn(client, product_id=42, price=1250).get_json() == {"points": 12, "tier_multiplier": None}


def test_a_rule_on_the_products_type_and_the_shoppers_tier_multiply_what_it_earns(client, store, settle):
    rule = {"name": "Double tea", "kind": "multiplier", "match": {"field": "product_type", "value": "Tea"},
            "multiplier": "2"}
    assert client.post("/api/earning-rules", json=rule, headers=auth()).status_code == 201
    assert earn(client, product_id=42, price=1250, type="Tea").get_json()["points"] == 25
    assert earn(client, product_id=42, price=1250, type="Mug").get_json()["points"] == 12
    assert client.post("/api/tiers", json={"name": "Gold", "threshold": 100, "multiplier": "2"},
                       headers=auth()).status_code == 201
    signed_webhook(client, "orders/paid", order(subtotal="1.00"))  # an order re-reckons 7001's tier
    settle()
    answer = earn(client, "7001", product_id=42, price=1250, type="Tea").get_json()
    assert answer == {"points": 50, "tier_multiplier": "2"}


@pytest.mark.parametrize("params, field", [
    (dict(price=100), "product_id"),
    (dict(product_id="abc", price=100), "product_id"),
    (dict(product_id=1), "price"),
    (dict(product_id=1, price="-5"), "price"),
    (dict(product_id=1, price="12.50"), "price"),
    (dict(product_id=1, price=10 ** 20), "price"),
    (dict(product_id=1, price=100, collection=["1", "x"]), "collection"),
    (dict(product_id=1, price=100, vendor="v" * 256), "vendor"),
    (dict(product_id=1, price=100, tag=["t"] * 251), "tag"),
])
def test_a_bad_product_query_is_named_and_writes_nothing(client, store, db, params, field):
    before = table_counts(db)
    response = earn(client, **params)
    assert response.status_code == 422 and field in response.get_json()["fields"]
    assert table_counts(db) == before


def test_a_platform_that_is_down_leaves_the_code_being_created(client, store):
    store.post(GRAPHQL, body=requests.ConnectionError("the platform is down"))
    response = redeem(client, {"reward_id": reward_id(client, "5 off your order")}, panel(client)["csrf"])
    assert response.status_code == 202
    answer = response.get_json()
    assert answer["notice"] == "pending" and answer["panel"]["balance"] == 150
    assert answer["panel"]["codes"][0]["status"] == "pending" and answer["panel"]["codes"][0]["apply_url"] is None


def test_a_code_the_platform_refuses_gives_the_points_back_and_says_so(client, store):
    store.post(GRAPHQL, json={"data": {"discountCodeBasicCreate": {
        "codeDiscountNode": None, "userErrors": [{"field": ["code"], "message": "bad", "code": "INVALID"}]}}})
    response = redeem(client, {"reward_id": reward_id(client, "5 off your order")}, panel(client)["csrf"])
    assert response.status_code == 503
    answer = response.get_json()
    assert answer["notice"] == "failed" and answer["panel"]["balance"] == 650 and balance(client) == 650
    assert answer["panel"]["codes"][0]["status"] == "failed"


def test_after_an_uninstall_a_redeem_is_refused_as_closed_and_spends_nothing(client, store, db, settle):
    token, five_off = panel(client)["csrf"], reward_id(client, "5 off your order")
    signed_webhook(client, "app/uninstalled", {"id": 1, "myshopify_domain": SHOP})
    settle()
    before = table_counts(db)
    response = redeem(client, {"reward_id": five_off}, token)
    assert response.status_code == 409 and response.get_json()["notice"] == "closed"
    assert table_counts(db) == before and panel(client)["balance"] == 650  # the points stay
