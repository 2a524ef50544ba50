"""Earning rules a merchant cannot double by mistake, and values picked rather than typed.

A rule identical in effect to an active one (same kind, match, numbers and window, whatever
its name or the case of its value) is refused with 409 naming the rule, and nothing is
written: two would add their bonuses twice. The editor offers the product types, vendors and
tags the store's products have (fed by the products/* webhooks), instead of free text.
"""
import pytest

from tests.helpers import OTHER_SHOP, auth, signed_webhook, table_counts
from tests.plugin.loyalty.rules.test_product_cache import product_payload

DOUBLE_TEA = {"name": "Double points on tea", "kind": "multiplier", "match": {"field": "product_type", "value": "Tea"},
              "multiplier": "2"}


def post_rule(client, **rule):
    return client.post("/api/earning-rules", json=rule, headers=auth())


def rules(client) -> list[dict]:
    return client.get("/api/earning-rules", headers=auth()).get_json()["earning_rules"]


@pytest.fixture
def tea_rule(client, installed) -> int:
    response = post_rule(client, **DOUBLE_TEA)
    assert response.status_code == 201
    return response.get_json()["id"]


@pytest.mark.parametrize("twin", [
    DOUBLE_TEA,
    {**DOUBLE_TEA, "name": "Another name"},
    {**DOUBLE_TEA, "match": {"field": "product_type", "value": "  tea "}, "multiplier": "2.0"},
])
def test_a_rule_identical_to_an_active_one_is_409_naming_it_and_writes_nothing(client, db, tea_rule, twin):
    before = table_counts(db)
    response = post_rule(client, **twin)
    assert response.status_code == 409
    assert response.get_json()["rule_id"] == tea_rule
    assert f"id {tea_rule}" in response.get_json()["error"]
    assert table_counts(db) == before and [r["id"] for r in rules(client)] == [tea_rule]


@pytest.mark.parametrize("different", [
    {**DOUBLE_TEA, "multiplier": "3"},
    {**DOUBLE_TEA, "match": {"field": "product_type", "value": "Coffee"}},
    {**DOUBLE_TEA, "match": {"field": "vendor", "value": "Tea"}},
    {**DOUBLE_TEA, "min_subtotal": "20.00"},
    {**DOUBLE_TEA, "starts_at": "2027-01-01T00:00:00Z"},
    {**DOUBLE_TEA, "active": False},
])
def test_a_rule_that_differs_in_effect_or_is_inactive_is_accepted(client, tea_rule, different):
    assert post_rule(client, **different).status_code == 201


def test_once_the_first_is_deactivated_the_same_rule_may_be_made_again(client, tea_rule):
    assert client.delete(f"/api/earning-rules/{tea_rule}", headers=auth()).status_code == 200
    assert post_rule(client, **DOUBLE_TEA).status_code == 201


def test_reactivating_or_editing_a_rule_into_a_twin_of_an_active_one_is_409(client, db, tea_rule):
    coffee = post_rule(client, **{**DOUBLE_TEA, "match": {"field": "product_type", "value": "Coffee"}}).get_json()
    before = table_counts(db)
    edited = client.patch(f"/api/earning-rules/{coffee['id']}", json={"match": DOUBLE_TEA["match"]}, headers=auth())
    assert edited.status_code == 409 and edited.get_json()["rule_id"] == tea_rule
    assert table_counts(db) == before
    assert next(r for r in rules(client) if r["id"] == coffee["id"])["match"]["value"] == "Coffee"
    twin = post_rule(client, **{**DOUBLE_TEA, "active": False}).get_json()
    assert client.patch(f"/api/earning-rules/{twin['id']}", json={"active": True}, headers=auth()).status_code == 409
    assert client.patch(f"/api/earning-rules/{tea_rule}", json={"name": "Tea, twice"}, headers=auth()).status_code == 200


def test_another_shops_rule_is_no_twin(client, tea_rule):
    response = client.post("/api/earning-rules", json=DOUBLE_TEA, headers=auth(OTHER_SHOP))
    assert response.status_code == 201


@pytest.fixture
def catalogue(client, installed, settle):
    for product_id, product_type, tags, vendor in (
            (1, "Loose leaf", "organic, Gift", "Rosebud"), (2, "loose leaf", "gift", "Hillside Farm"),
            (3, "Teaware", "", "Rosebud"), (4, "", "ORGANIC", "")):
        signed_webhook(client, "products/create",
                       product_payload(product_id, product_type, "2026-11-20T10:00:00Z", tags, vendor))
    signed_webhook(client, "products/create", product_payload(9, "Other shop's type", "2026-11-20T10:00:00Z"),
                   shop=OTHER_SHOP)
    settle()


def values(client, **query) -> list[str]:
    response = client.get("/api/earning-rules/values", query_string=query, headers=auth())
    assert response.status_code == 200, response.get_json()
    return response.get_json()["values"]


def test_the_editor_is_offered_the_stores_own_types_vendors_and_tags(client, catalogue):
    assert values(client, field="product_type") == ["Loose leaf", "Teaware"]  # one per spelling, no blanks
    assert values(client, field="product_type", q="LEAF") == ["Loose leaf"]
    assert values(client, field="vendor") == ["Hillside Farm", "Rosebud"]
    assert values(client, field="product_tag") == ["gift", "organic"]  # tags are kept as the engine matches them
    assert values(client, field="product_tag", q="zzz") == []


@pytest.mark.parametrize("query, field", [
    ({"field": "sku"}, "field"), ({}, "field"), ({"field": "vendor", "q": "x" * 256}, "q"),
    ({"field": "vendor", "q": "a\x00b"}, "q"),
])
def test_a_bad_values_question_is_422_naming_the_parameter(client, db, catalogue, query, field):
    before = table_counts(db)
    response = client.get("/api/earning-rules/values", query_string=query, headers=auth())
    assert response.status_code == 422 and set(response.get_json()["fields"]) == {field}
    assert table_counts(db) == before
