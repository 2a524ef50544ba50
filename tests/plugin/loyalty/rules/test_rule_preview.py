"""`POST /api/earning-rules/preview`: what a sample order earns under the shop's rules and an unsaved one.

Worked examples priced by the engine that awards orders, with the sample's product facts
taken from the request; bad fields named one by one; and a preview that writes nothing
and never reads another shop's rules.
"""
import pytest

from tests.helpers import OTHER_SHOP, auth, balance, member, order, table_counts

TEA = {"title": "Tea", "quantity": 2, "price": "10.00", "sku": "TEA-1", "vendor": "Rosebud", "product_id": "11",
       "product_type": "Loose leaf", "product_tags": [" Organic "], "collection_ids": ["501"]}
MUG = {"title": "Mug", "quantity": 1, "price": "15.00", "sku": "MUG-1", "vendor": "Potter & Co", "product_id": "22",
       "product_type": "Mug"}
SAMPLE = [TEA, MUG]  # 2 × 10.00 + 1 × 15.00: 35 at the default rate
DOUBLE_TEA = {"name": "Double tea", "kind": "multiplier", "match": {"field": "sku", "value": "tea-1"},
              "multiplier": "2"}


def preview(client, shop: str | None = None, **body):
    return client.post("/api/earning-rules/preview", json={"lines": SAMPLE, **body},
                       headers=auth(shop) if shop else auth())


def answer(client, **body) -> dict:
    response = preview(client, **body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def summary(client, **body) -> tuple[int, list[tuple[str, int]]]:
    earned = answer(client, **body)
    assert sum(item["points"] for item in earned["breakdown"]) == earned["points"]
    return earned["points"], [(item["label"], item["points"]) for item in earned["breakdown"]]


def add_rule(client, shop: str | None = None, **rule) -> dict:
    response = client.post("/api/earning-rules", json=rule, headers=auth(shop) if shop else auth())
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def rules(client) -> list[dict]:
    return client.get("/api/earning-rules", headers=auth()).get_json()["earning_rules"]


# Worked examples


def test_without_rules_the_sample_earns_the_base_rate(client, installed):
    assert answer(client) == {"points": 35, "breakdown": [{"rule_id": None, "label": "Base rate", "points": 35}]}


def test_a_saved_rule_counts_and_the_breakdown_names_it(client, installed):
    rule = add_rule(client, **DOUBLE_TEA)
    earned = answer(client)
    assert earned["points"] == 55  # tea 20 × 2 = 40, mug 15
    assert earned["breakdown"] == [{"rule_id": None, "label": "Base rate", "points": 35},
                                   {"rule_id": rule["id"], "label": "Double tea", "points": 20}]


def test_an_unsaved_rule_counts_in_the_preview_and_is_not_saved(client, installed, db):
    before = table_counts(db)
    bonus = {"name": "Organic bonus", "kind": "bonus_points", "match": {"field": "product_tag", "value": "organic"},
             "points": 5, "per": "item"}
    earned = answer(client, rule=bonus)
    assert earned == {"points": 45, "breakdown": [{"rule_id": None, "label": "Base rate", "points": 35},
                                                  {"rule_id": None, "label": "Organic bonus", "points": 10}]}
    assert table_counts(db) == before and rules(client) == []


@pytest.mark.parametrize("match, points", [
    pytest.param({"field": "product_type", "value": "mug"}, 65, id="product type: the mug's 15 x 3"),
    pytest.param({"field": "product_tag", "value": "ORGANIC"}, 75, id="product tag: the tea's 20 x 3"),
    pytest.param({"field": "collection_id", "value": "501"}, 75, id="collection: the tea's 20 x 3"),
    pytest.param({"field": "product_id", "value": "22"}, 65, id="product id: the mug's"),
    pytest.param({"field": "vendor", "value": " potter & co "}, 65, id="vendor, without case or spaces"),
    pytest.param({"field": "any"}, 105, id="any: the whole order x 3"),
])
def test_product_facts_come_from_the_sample_not_the_cache(client, installed, match, points):
    rule = {"name": "Triple", "kind": "multiplier", "match": match, "multiplier": "3"}
    assert answer(client, rule=rule)["points"] == points


def test_a_sample_line_without_a_product_id_keeps_its_facts_but_no_product_id_rule_hits_it(client, installed):
    line = {"title": "Tea", "quantity": 1, "price": "10.00", "product_type": "Loose leaf"}
    by_type = {"name": "Leaf", "kind": "multiplier", "match": {"field": "product_type", "value": "loose leaf"},
               "multiplier": "2"}
    assert answer(client, lines=[line], rule=by_type)["points"] == 20
    by_id = {**by_type, "match": {"field": "product_id", "value": "1"}}
    assert answer(client, lines=[line], rule=by_id)["points"] == 10


def test_a_rule_being_edited_stands_in_for_its_saved_version(client, installed):
    saved = add_rule(client, name="Order bonus", kind="bonus_points", match={"field": "any"}, points=5, per="order")
    assert summary(client) == (40, [("Base rate", 35), ("Order bonus", 5)])
    assert summary(client, rule_id=saved["id"], rule={"points": 7, "name": "Bigger bonus"}) == (
        42, [("Base rate", 35), ("Bigger bonus", 7)])  # 7 instead of 5, not both
    assert answer(client, rule_id=saved["id"], rule={"active": False})["points"] == 35
    assert answer(client, rule_id=saved["id"], rule={"kind": "multiplier", "multiplier": "2"})["points"] == 70
    assert rules(client)[0]["points"] == 5 and rules(client)[0]["kind"] == "bonus_points"


def test_an_inactive_rule_does_not_count_until_the_edit_activates_it(client, installed):
    saved = add_rule(client, **DOUBLE_TEA)
    client.delete(f"/api/earning-rules/{saved['id']}", headers=auth())
    assert answer(client)["points"] == 35
    assert answer(client, rule_id=saved["id"], rule={"active": True})["points"] == 55


def test_the_preview_uses_the_shops_rate_and_floors_once(client, installed):
    assert client.patch("/api/program", json={"points_per_currency_unit": "0.333"}, headers=auth()).status_code == 200
    add_rule(client, **DOUBLE_TEA)
    # (35 + 20) × 0.333 = 18.315: base floor(35 × 0.333) = 11, the rule's part 18 − 11 = 7
    assert summary(client) == (18, [("Base rate", 11), ("Double tea", 7)])


def test_a_rule_window_is_reckoned_at_the_samples_time(client, installed):
    campaign = {**DOUBLE_TEA, "starts_at": "2099-11-27T00:00:00Z", "ends_at": "2099-12-01T00:00:00Z"}
    assert answer(client, rule=campaign)["points"] == 35  # an order placed now: not yet
    assert answer(client, rule=campaign, at="2099-11-28T12:00:00+01:00")["points"] == 55
    assert answer(client, rule=campaign, at="2099-12-01T00:00:00Z")["points"] == 35  # ends_at is excluded


def test_min_subtotal_is_measured_on_the_sample(client, installed):
    rule = {**DOUBLE_TEA, "min_subtotal": "40.00"}
    assert answer(client, rule=rule)["points"] == 35
    assert answer(client, rule=rule, lines=[{**TEA, "quantity": 3}, MUG])["points"] == 75  # 45 + tea 30 again


def test_the_preview_says_what_a_paid_order_with_those_lines_then_earns(client, installed, send):
    add_rule(client, **DOUBLE_TEA)
    lines = [{"id": n, "product_id": int(item["product_id"]), "sku": item["sku"], "vendor": item["vendor"],
              "quantity": item["quantity"], "price": item["price"], "gift_card": False, "discount_allocations": []}
             for n, item in enumerate(SAMPLE, start=1)]
    send("orders/paid", order(order_id=1, subtotal="35.00", line_items=lines))
    earned = answer(client)
    award = next(entry for entry in member(client)["ledger"] if entry["kind"] == "order_award")
    assert balance(client) == earned["points"] == 55
    assert award["breakdown"] == earned["breakdown"]


def test_another_shops_rules_are_never_used(client, installed, db):
    theirs = add_rule(client, shop=OTHER_SHOP, name="Their campaign", kind="multiplier", match={"field": "any"},
                      multiplier="10")
    assert answer(client)["points"] == 35
    before = table_counts(db)
    response = preview(client, rule_id=theirs["id"], rule={"multiplier": "2"})
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"rule_id": "is not an earning rule of this shop"}
    assert table_counts(db) == before
    their_answer = preview(client, shop=OTHER_SHOP).get_json()
    assert their_answer["points"] == 350


# Bad input: 422 naming the field, nothing written


@pytest.mark.parametrize("body, field, message", [
    ({"lines": []}, "lines", "must be a list of 1 to 50 lines"),
    ({"lines": [TEA] * 51}, "lines", "must be a list of 1 to 50 lines"),
    ({"lines": "2 teas"}, "lines", "must be a list of 1 to 50 lines"),
    ({"lines": [{**TEA, "quantity": 0}]}, "lines", "line 1 quantity must be a whole number from 1 to 10,000"),
    ({"lines": [TEA, {**MUG, "price": "ten"}]}, "lines", 'line 2 price must be an amount such as "40.00"'),
    ({"lines": [TEA, {**MUG, "price": "-1"}]}, "lines", "line 2 price must be zero or more"),
    ({"lines": [{"quantity": 1, "price": "1"}]}, "lines", "line 1 title is required"),
    ({"lines": [{**TEA, "colour": "green"}]}, "lines", "line 1 colour is not a line field"),
    ({"lines": ["tea"]}, "lines", "line 1 must be a JSON object of line fields"),
    ({"lines": [{**TEA, "product_tags": "organic"}]}, "lines", "line 1 product_tags must be a list"),
    ({"lines": [{**TEA, "collection_ids": ["x"]}]}, "lines", "line 1 collection_ids must be a list"),
    ({"lines": [{**TEA, "product_id": "eleven"}]}, "lines", "line 1 product_id must be a numeric product id"),
    ({"lines": [{**TEA, "sku": "\x00"}]}, "lines", "line 1 sku must be text without NUL"),
    ({"lines": [TEA, {**MUG, "product_id": "11"}]}, "lines", "line 2 product_id names an earlier line's product"),
    ({"lines": [{**TEA, "price": "999999999999", "quantity": 2}]}, "lines", "must total less than"),
    ({"rule": {**DOUBLE_TEA, "multiplier": "0"}}, "rule.multiplier", "must be more than 0 and at most 100"),
    ({"rule": {**DOUBLE_TEA, "kind": "cashback"}}, "rule.kind", "must be one of multiplier, bonus_points"),
    ({"rule": {"kind": "multiplier", "match": {"field": "any"}, "multiplier": "2"}}, "rule.name", "is required"),
    ({"rule": {**DOUBLE_TEA, "points": 5}}, "rule.points", "does not apply to a multiplier rule"),
    ({"rule": {**DOUBLE_TEA, "starts_at": "2026-12-01T00:00:00"}}, "rule.starts_at", "must say its time zone"),
    ({"rule": "double"}, "rule", "must be a JSON object of earning rule fields"),
    ({"rule_id": "seven", "rule": DOUBLE_TEA}, "rule_id", "must be the numeric id of the rule being edited"),
    ({"rule_id": 99999}, "rule_id", "is only read with a rule"),
    ({"rule_id": 99999, "rule": {"multiplier": "3"}}, "rule_id", "is not an earning rule of this shop"),
    ({"at": "tomorrow"}, "at", "must be an ISO 8601 time"),
    ({"subtotal": "35.00"}, "subtotal", "is not a preview field"),
])
def test_a_bad_field_is_422_naming_that_field_alone_and_nothing_changes(client, installed, db, body, field, message):
    add_rule(client, **DOUBLE_TEA)
    before = table_counts(db)
    response = preview(client, **body)
    assert response.status_code == 422
    fields = response.get_json()["fields"]
    assert list(fields) == [field] and message in fields[field], fields
    assert table_counts(db) == before
    assert [(rule["name"], rule["multiplier"]) for rule in rules(client)] == [("Double tea", "2")]


def test_every_bad_line_field_is_named_in_one_answer(client, installed):
    response = preview(client, lines=[{**TEA, "quantity": -1}, {**MUG, "price": "x", "sku": ""}])
    message = response.get_json()["fields"]["lines"]
    assert "line 1 quantity" in message and "line 2 price" in message and "line 2 sku" in message


@pytest.mark.parametrize("body", [None, [], "lines"])
def test_a_body_that_is_not_an_object_is_named_as_such(client, installed, body):
    response = client.post("/api/earning-rules/preview", json=body, headers=auth())
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"_body": "must be a JSON object of preview fields"}


def test_missing_lines_are_required(client, installed):
    response = client.post("/api/earning-rules/preview", json={"rule": DOUBLE_TEA}, headers=auth())
    assert response.status_code == 422 and response.get_json()["fields"] == {"lines": "is required"}


def test_the_preview_needs_a_session_token(client, installed):
    assert client.post("/api/earning-rules/preview", json={"lines": SAMPLE}).status_code == 401
