"""The reward kinds beyond money off: a free product (a code for one product at 100 % off, limited
to the customer) and store credit (its value in money); what each kind takes and refuses."""
import json

import pytest

from tests.helpers import SHOP, auth, balance, member, order, table_counts

GRAPHQL = f"https://{SHOP}/admin/api/2026-10/graphql.json"


def created() -> dict:
    return {"data": {"discountCodeBasicCreate": {"codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/1"},
                                                 "userErrors": []}}}


def add(client, **fields):
    return client.post("/api/rewards", json={"name": "A reward", "points_cost": 300, **fields}, headers=auth())


def test_a_free_product_is_a_single_use_code_for_that_product_at_100_percent_for_that_customer(client, send,
                                                                                                platform):
    platform.post(GRAPHQL, json=created())
    send("orders/paid", order(customer_id=7001, subtotal="400.00"))
    made = add(client, name="A free mug", kind="free_product", product_id="gid://shopify/Product/632910392")
    assert made.status_code == 201, made.get_json()
    reward = made.get_json()
    assert (reward["kind"], reward["product_id"], reward["value"]) == ("free_product", "632910392", "0")
    response = client.post("/api/members/7001/redemptions", json={"reward_id": reward["id"]}, headers=auth())
    assert response.status_code == 201 and response.get_json()["status"] == "issued"
    [call] = [json.loads(c.request.body) for c in platform.calls if c.request.url == GRAPHQL]
    sent = call["variables"]["discount"]
    assert "discountCodeBasicCreate" in call["query"]
    assert sent["customerGets"] == {"value": {"percentage": 1.0},
                                    "items": {"products": {"productsToAdd": ["gid://shopify/Product/632910392"]}}}
    assert sent["context"] == {"customers": {"add": ["gid://shopify/Customer/7001"]}}
    assert (sent["usageLimit"], sent["appliesOncePerCustomer"], sent["code"]) == (1, True, response.get_json()["code"])
    assert balance(client) == 100


def test_a_reward_that_stops_being_a_free_product_drops_its_product(client, installed):
    reward = add(client, kind="free_product", product_id=632910392).get_json()
    changed = client.patch(f"/api/rewards/{reward['id']}", json={"kind": "amount_off", "value": "5"}, headers=auth())
    assert changed.status_code == 200 and changed.get_json()["product_id"] is None


def test_store_credit_is_money(client, installed):
    reward = add(client, kind="store_credit", value="12.50").get_json()
    assert (reward["kind"], reward["value"], reward["product_id"]) == ("store_credit", "12.50", None)


@pytest.mark.parametrize("fields, field, message", [
    ({"kind": "free_product"}, "product_id", "is required for a free product"),
    ({"kind": "free_product", "product_id": "mug"}, "product_id", "numeric product id"),
    ({"kind": "free_product", "product_id": -4}, "product_id", "numeric product id"),
    ({"kind": "amount_off", "value": "5", "product_id": 632910392}, "product_id", "only for free_product"),
    ({"kind": "store_credit"}, "value", "is required"),
    ({"kind": "store_credit", "value": "0"}, "value", "more than zero"),
    ({"kind": "store_credit", "value": "5.001"}, "value", "2 decimal places"),
    ({"kind": "gift_card", "value": "5"}, "kind", ""),
])
def test_bad_reward_kinds_are_422_naming_the_field_and_change_nothing(client, installed, db, fields, field, message):
    before = table_counts(db)
    response = add(client, **fields)
    assert response.status_code == 422
    assert message in response.get_json()["fields"][field]
    assert table_counts(db) == before


def test_a_product_cannot_be_given_to_a_reward_that_is_not_a_free_product(client, installed, db):
    reward = add(client, kind="amount_off", value="5").get_json()
    before = table_counts(db)
    response = client.patch(f"/api/rewards/{reward['id']}", json={"product_id": 632910392}, headers=auth())
    assert response.status_code == 422 and "only for free_product" in response.get_json()["fields"]["product_id"]
    assert table_counts(db) == before
    assert member(client) is None  # no member was made by any of this
    listed = {r["id"]: r for r in client.get("/api/rewards", headers=auth()).get_json()["rewards"]}
    assert listed[reward["id"]]["product_id"] is None

