"""Earning rules: worked examples through signed webhooks and the API, balance after every step."""
import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from plugin.models import EarningRuleRecord
from tests.helpers import OTHER_SHOP, RECORDINGS, auth, balance, member, order, table_counts


def line(line_id: int, price: str, quantity: int = 1, product_id: int = 1, sku: str = "SKU", vendor: str = "Other",
         discounts: tuple[str, ...] = (), gift_card: bool = False) -> dict:
    """A line item shaped like the platform's, with shop-money sets and discount allocations."""
    return {"id": line_id, "product_id": product_id, "sku": sku, "vendor": vendor, "quantity": quantity,
            "price": price, "price_set": {"shop_money": {"amount": price, "currency_code": "USD"}},
            "gift_card": gift_card, "total_discount": "0.00",
            "discount_allocations": [{"amount": d, "amount_set": {"shop_money": {"amount": d, "currency_code": "USD"}}}
                                     for d in discounts]}


def paid(order_id: int, lines: list[dict], subtotal: str | None = None, at: str = "2026-11-20T12:00:00Z",
         **fields) -> dict:
    """An orders/paid payload whose subtotal is its lines' net total unless given."""
    total = sum(Decimal(item["price"]) * item["quantity"] - sum(Decimal(d["amount"]) for d in item["discount_allocations"])
                for item in lines)
    return order(order_id=order_id, subtotal=subtotal or str(total), line_items=lines, processed_at=at, **fields)


def refund_of(order_id: int, refund_id: int, *lines: tuple[int, int, str]) -> dict:
    """A refunds/create payload for (line id, quantity, refunded subtotal) triples."""
    return {"id": refund_id, "order_id": order_id, "restock": True, "transactions": [], "refund_line_items": [
        {"id": refund_id * 10 + n, "line_item_id": line_id, "quantity": quantity, "subtotal": amount,
         "subtotal_set": {"shop_money": {"amount": amount, "currency_code": "USD"}},
         "line_item": {"id": line_id, "gift_card": False}} for n, (line_id, quantity, amount) in enumerate(lines)]}


def add_rule(client, shop: str = None, **rule) -> dict:
    response = client.post("/api/earning-rules", json=rule, headers=auth(shop) if shop else auth())
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def last_award(client) -> dict:
    return next(e for e in member(client)["ledger"] if e["kind"] == "order_award")


TEA = dict(product_id=11, sku="TEA-1", vendor="Rosebud")
MUG = dict(product_id=22, sku="MUG-1", vendor="Potter & Co")


# Worked examples, one per match field and effect


@pytest.mark.parametrize("match", [
    {"field": "product_id", "value": "11"},
    {"field": "sku", "value": " tea-1 "},  # without case or surrounding spaces
    {"field": "vendor", "value": "ROSEBUD"},
])
def test_a_multiplier_on_a_line_field_multiplies_only_the_lines_it_hits(client, installed, send, match):
    add_rule(client, name="Double tea", kind="multiplier", match=match, multiplier="2")
    send("orders/paid", paid(1, [line(1, "10.00", 2, **TEA), line(2, "15.00", 1, **MUG)]))
    assert balance(client) == 55  # tea 20 × 2 = 40, mug 15 × 1
    award = last_award(client)
    assert award["delta"] == 55 and sum(item["points"] for item in award["breakdown"]) == 55
    assert [(item["label"], item["points"]) for item in award["breakdown"]] == [("Base rate", 35), ("Double tea", 20)]


def test_a_campaign_on_any_line_multiplies_the_whole_order(client, installed, send):
    rule = add_rule(client, name="Black Friday", kind="multiplier", match={"field": "any"}, multiplier="3")
    send("orders/paid", paid(1, [line(1, "10.00", **TEA), line(2, "5.00", **MUG)]))
    assert balance(client) == 45
    assert last_award(client)["breakdown"] == [{"rule_id": None, "label": "Base rate", "points": 15},
                                               {"rule_id": rule["id"], "label": "Black Friday", "points": 30}]


def test_bonus_points_per_item_count_the_quantity_and_per_order_count_once(client, installed, send):
    add_rule(client, name="25 per mug", kind="bonus_points", match={"field": "sku", "value": "MUG-1"}, points=25,
             per="item")
    add_rule(client, name="50 for any tea", kind="bonus_points", match={"field": "vendor", "value": "Rosebud"},
             points=50, per="order")
    send("orders/paid", paid(1, [line(1, "10.00", 2, **TEA), line(2, "15.00", 3, **MUG), line(3, "1.00", 1, **TEA)]))
    assert balance(client) == 66 + 75 + 50  # 66 at the base rate, 3 mugs × 25, once 50
    send("orders/paid", paid(2, [line(4, "15.00", 1, **MUG)]))
    assert balance(client) == 191 + 15 + 25  # no tea: no order bonus


def test_rules_do_not_stack_the_highest_multiplier_wins_and_bonuses_add(client, installed, send):
    add_rule(client, name="2x tea", kind="multiplier", match={"field": "product_id", "value": "11"}, multiplier="2")
    add_rule(client, name="3x Rosebud", kind="multiplier", match={"field": "vendor", "value": "rosebud"},
             multiplier="3")
    add_rule(client, name="1.5x all", kind="multiplier", match={"field": "any"}, multiplier="1.5")
    send("orders/paid", paid(1, [line(1, "10.00", **TEA), line(2, "10.00", **MUG)]))
    assert balance(client) == 45  # tea 10 × 3, mug 10 × 1.5
    assert sum(item["points"] for item in last_award(client)["breakdown"]) == 45


def test_a_rule_window_counts_the_orders_business_time_from_starts_at_up_to_but_not_ends_at(client, installed, send):
    add_rule(client, name="Weekend", kind="multiplier", match={"field": "any"}, multiplier="2",
             starts_at="2026-11-28T00:00:00Z", ends_at="2026-11-30T00:00:00Z")
    send("orders/paid", paid(1, [line(1, "10.00")], at="2026-11-27T23:59:59Z"))
    assert balance(client) == 10  # before the window
    send("orders/paid", paid(2, [line(2, "10.00")], at="2026-11-28T00:00:00Z"))
    assert balance(client) == 30  # at starts_at: doubled
    send("orders/paid", paid(3, [line(3, "10.00")], at="2026-11-30T01:00:00+02:00"))
    assert balance(client) == 50  # 23:00 UTC on the 29th: inside
    send("orders/paid", paid(4, [line(4, "10.00")], at="2026-11-30T00:00:00Z"))
    assert balance(client) == 60  # at ends_at: outside


def test_min_subtotal_admits_orders_whose_eligible_amount_reaches_it(client, installed, send):
    add_rule(client, name="50 over 100", kind="bonus_points", match={"field": "any"}, points=50, per="order",
             min_subtotal="100")
    send("orders/paid", paid(1, [line(1, "99.99")]))
    assert balance(client) == 99
    send("orders/paid", paid(2, [line(2, "100.00")]))
    assert balance(client) == 99 + 150


def test_discounts_allocated_to_a_line_leave_only_its_net_amount_to_multiply(client, installed, send):
    add_rule(client, name="2x tea", kind="multiplier", match={"field": "product_id", "value": "11"}, multiplier="2")
    send("orders/paid", paid(1, [line(1, "10.00", 2, discounts=("5.00",), **TEA), line(2, "10.00", **MUG)]))
    assert balance(client) == 40  # tea (20 - 5) × 2 = 30, mug 10


def test_gift_card_lines_earn_nothing_even_when_a_rule_hits_them(client, installed, send):
    add_rule(client, name="3x all", kind="multiplier", match={"field": "any"}, multiplier="3")
    send("orders/paid", paid(1, [line(1, "50.00", gift_card=True), line(2, "10.00", **MUG)], subtotal="60.00"))
    assert balance(client) == 30


# Refunds use what lines earned at award time


def test_a_refund_of_one_line_of_three_takes_back_what_that_line_earned(client, installed, send):
    add_rule(client, name="2x tea", kind="multiplier", match={"field": "product_id", "value": "11"}, multiplier="2")
    add_rule(client, name="5 per mug", kind="bonus_points", match={"field": "product_id", "value": "22"}, points=5,
             per="item")
    send("orders/paid", paid(1, [line(1, "10.00", 2, **TEA), line(2, "15.00", 2, **MUG), line(3, "7.00", 1)]))
    assert balance(client) == 40 + 30 + 10 + 7  # tea doubled, mugs plus 2 × 5, the rest
    send("refunds/create", refund_of(1, 501, (2, 1, "15.00")))
    assert balance(client) == 87 - 15 - 5  # one mug: its amount and its bonus
    send("refunds/create", refund_of(1, 502, (1, 1, "10.00")))
    assert balance(client) == 67 - 20  # one tea, doubled as it was


def test_a_rule_changed_between_an_order_and_its_refund_does_not_change_what_the_refund_takes(client, installed, send):
    rule = add_rule(client, name="2x tea", kind="multiplier", match={"field": "product_id", "value": "11"},
                    multiplier="2")
    send("orders/paid", paid(1, [line(1, "10.00", 3, **TEA)]))
    assert balance(client) == 60
    client.patch(f"/api/earning-rules/{rule['id']}", json={"multiplier": "5"}, headers=auth())
    send("refunds/create", refund_of(1, 501, (1, 1, "10.00")))
    assert balance(client) == 40  # 10 × 2 as recorded, not × 5


def test_a_cancel_after_a_partial_refund_takes_back_the_rest_including_order_bonuses(client, installed, send):
    add_rule(client, name="50 per order", kind="bonus_points", match={"field": "any"}, points=50, per="order")
    paid_order = paid(1, [line(1, "10.00", 2), line(2, "30.00")])
    send("orders/paid", paid_order)
    assert balance(client) == 100
    send("refunds/create", refund_of(1, 501, (1, 1, "10.00")))
    assert balance(client) == 90  # the order bonus stays with a refund
    send("orders/cancelled", paid_order)
    assert balance(client) == 0


def test_a_refund_that_arrives_before_its_order_uses_the_lines_once_the_order_earns(client, installed, send):
    add_rule(client, name="2x tea", kind="multiplier", match={"field": "product_id", "value": "11"}, multiplier="2")
    send("refunds/create", refund_of(1, 501, (1, 1, "10.00")))
    assert balance(client) is None
    send("orders/paid", paid(1, [line(1, "10.00", 2, **TEA), line(2, "5.00")]))
    assert balance(client) == 45 - 20


# Replay, batches and the rules-free baseline


def replayed_points(app, client, settle, path: Path) -> dict[str, int]:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["replay", str(path)]).exit_code == 0
    settle()  # the services pass's workers process them
    listed = client.get("/api/members", headers=auth(json.loads(path.read_text().splitlines()[0])["shop"]))
    return {m["customer_id"]: m["balance"] for m in listed.get_json()["members"]} if listed.status_code == 200 else {}


def flat_points(path: Path) -> dict[str, int]:
    """The rules-free arithmetic, written out independently: floor(subtotal − gift cards)
    per paid order, less floor(refunded subtotal) per refund, never below what is held."""
    held: dict[int, tuple[str, int]] = {}
    waiting: dict[int, list[int]] = {}
    cancelled: set[int] = set()
    for raw in path.read_text().splitlines():
        record = json.loads(raw)
        payload = record["payload"]
        if record["topic"] == "orders/paid" and payload["id"] not in held and payload.get("customer"):
            gift = sum(Decimal(i["price"]) * i["quantity"] for i in payload.get("line_items", []) if i.get("gift_card"))
            points = int(Decimal(payload["subtotal_price"]) - gift)
            held[payload["id"]] = (str(payload["customer"]["id"]), points)
            for taken in waiting.pop(payload["id"], []):
                held[payload["id"]] = (held[payload["id"]][0], max(held[payload["id"]][1] - taken, 0))
            if payload["id"] in cancelled:
                held[payload["id"]] = (held[payload["id"]][0], 0)
        elif record["topic"] == "refunds/create":
            taken = int(sum(Decimal(i["subtotal_set"]["shop_money"]["amount"]) for i in payload["refund_line_items"]))
            if payload["order_id"] in held:
                customer, points = held[payload["order_id"]]
                held[payload["order_id"]] = (customer, max(points - taken, 0))
            else:
                waiting.setdefault(payload["order_id"], []).append(taken)
        elif record["topic"] == "orders/cancelled":
            cancelled.add(payload["id"])
            if payload["id"] in held:
                held[payload["id"]] = (held[payload["id"]][0], 0)
    totals: dict[str, int] = {}
    for customer, points in held.values():
        totals[customer] = totals.get(customer, 0) + points
    return totals


@pytest.mark.parametrize("recording", sorted(p.name for p in RECORDINGS.glob("*.jsonl")))
def test_with_no_rules_every_recording_earns_what_the_flat_rate_gives(app, client, settle, recording):
    path = RECORDINGS / recording
    got = replayed_points(app, client, settle, path)
    expected = {customer: points for customer, points in flat_points(path).items()}
    assert {c: p for c, p in got.items() if c in expected} == expected


def test_replaying_a_recording_twice_with_rules_changes_nothing_the_second_time(app, client, installed, settle):
    add_rule(client, name="2x Rosebud", kind="multiplier", match={"field": "vendor", "value": "Rosebud"},
             multiplier="2")
    path = RECORDINGS / "partial_refund.jsonl"
    first = replayed_points(app, client, settle, path)
    assert first and replayed_points(app, client, settle, path) == first


def test_a_batch_of_250_mixed_orders_earns_what_the_one_by_one_computation_gives(inprocess_app, installed,
                                                                                 monkeypatch):
    from plugin.db import transaction
    from plugin.loyalty.earning.engine import award
    from plugin.loyalty.orders import shop_context
    from plugin.loyalty.rules.definitions import active_rules
    from tests.helpers import SHOP, signed_webhook
    from webhooks.handlers import orders_paid
    from webhooks.processing import drain_due_events

    app = inprocess_app  # jobs in this process on either pass, so the 250 wait for one drain
    client = app.test_client()
    add_rule(client, name="2x tea", kind="multiplier", match={"field": "product_id", "value": "11"}, multiplier="2")
    add_rule(client, name="1.5x Potter", kind="multiplier", match={"field": "vendor", "value": "potter & co"},
             multiplier="1.5")
    add_rule(client, name="7 per mug", kind="bonus_points", match={"field": "sku", "value": "MUG-1"}, points=7,
             per="item")
    add_rule(client, name="20 over 50", kind="bonus_points", match={"field": "any"}, points=20, per="order",
             min_subtotal="50")
    monkeypatch.setattr("webhooks.intake.signal_drain", lambda trigger: None)  # let them queue up, then one drain
    payloads = [paid(9000 + n, [line(n * 3 + 1, f"{n % 17 + 1}.{n % 100:02d}", n % 4 + 1, **TEA),
                                line(n * 3 + 2, f"{n % 23 + 2}.50", n % 3 + 1, **MUG),
                                line(n * 3 + 3, "3.33", 1)], customer=({"id": 100 + n % 40}))
                for n in range(250)]
    for payload in payloads:
        signed_webhook(client, "orders/paid", payload)
    with app.app_context():
        assert drain_due_events() == 250
        with transaction() as session:
            shop = shop_context(session, SHOP)
            rules = active_rules(session, shop.id)
            expected: dict[str, int] = {}
            for payload in payloads:
                facts = orders_paid.order_facts(payload)
                customer = str(facts.customer_id)
                expected[customer] = expected.get(customer, 0) + award(facts, shop.rules, rules).points
    listed = client.get("/api/members?page=1", headers=auth()).get_json()["members"]
    assert {m["customer_id"]: m["balance"] for m in listed} == expected
    assert app.test_cli_runner().invoke(args=["verify-ledger"]).exit_code == 0


# Bad input: the answer names the field, and nothing changes


@pytest.mark.parametrize("body, field", [
    ({"name": "x", "kind": "multiplier", "match": {"field": "colour", "value": "red"}, "multiplier": "2"}, "match"),
    ({"name": "x", "kind": "multiplier", "match": {"field": "any"}, "multiplier": "0"}, "multiplier"),
    ({"name": "x", "kind": "multiplier", "match": {"field": "any"}, "multiplier": "1000"}, "multiplier"),
    ({"name": "x", "kind": "multiplier", "match": {"field": "any"}, "multiplier": "two"}, "multiplier"),
    ({"name": "x", "kind": "multiplier", "match": {"field": "any"}, "multiplier": "2",
      "starts_at": "2026-12-02T00:00:00Z", "ends_at": "2026-12-01T00:00:00Z"}, "ends_at"),
    ({"name": "x", "kind": "bonus_points", "match": {"field": "any"}, "points": 5}, "per"),
    ({"name": "x", "kind": "bonus_points", "match": {"field": "any"}, "points": "five", "per": "item"}, "points"),
    ({"name": "x", "kind": "bonus_points", "match": {"field": "any"}, "points": 5, "per": "week"}, "per"),
    ({"name": "x", "kind": "multiplier", "match": {"field": "any"}, "multiplier": "2", "points": 5}, "points"),
    ({"name": "x", "kind": "multiplier", "match": {"field": "product_id", "value": "tea"}, "multiplier": "2"},
     "match"),
    ({"name": "x", "kind": "multiplier", "match": {"field": "any", "value": "all"}, "multiplier": "2"}, "match"),
    ({"name": "x", "kind": "multiplier", "match": {"field": "any"}, "multiplier": "2",
      "starts_at": "2026-12-01T00:00:00"}, "starts_at"),
    ({"name": "", "kind": "multiplier", "match": {"field": "any"}, "multiplier": "2"}, "name"),
    ({"name": "x", "kind": "cashback", "match": {"field": "any"}}, "kind"),
    ({"name": "x", "kind": "multiplier", "match": {"field": "any"}, "multiplier": "2", "colour": "red"}, "colour"),
])
def test_a_bad_rule_is_422_naming_the_field_and_changes_nothing(client, installed, db, body, field):
    before = table_counts(db)
    response = client.post("/api/earning-rules", json=body, headers=auth())
    assert response.status_code == 422 and field in response.get_json()["fields"], response.get_json()
    assert table_counts(db) == before


def test_a_bad_change_is_422_and_leaves_the_rule_as_it_was(client, installed, db):
    rule = add_rule(client, name="x", kind="multiplier", match={"field": "any"}, multiplier="2")
    response = client.patch(f"/api/earning-rules/{rule['id']}", json={"multiplier": "0", "name": "y"}, headers=auth())
    assert response.status_code == 422 and set(response.get_json()["fields"]) == {"multiplier"}
    [listed] = client.get("/api/earning-rules", headers=auth()).get_json()["earning_rules"]
    assert (listed["name"], listed["multiplier"]) == ("x", "2")


def test_another_shops_rule_is_404_and_stays_as_it_was(client, installed, db):
    rule = add_rule(client, shop=OTHER_SHOP, name="theirs", kind="multiplier", match={"field": "any"}, multiplier="2")
    assert client.patch(f"/api/earning-rules/{rule['id']}", json={"name": "mine"}, headers=auth()).status_code == 404
    assert client.delete(f"/api/earning-rules/{rule['id']}", headers=auth()).status_code == 404
    assert client.get("/api/earning-rules", headers=auth()).get_json()["earning_rules"] == []
    assert db.scalar(select(EarningRuleRecord.name)) == "theirs"


def test_delete_deactivates_the_rule_which_stays_listed_and_stops_applying(client, installed, send):
    rule = add_rule(client, name="2x all", kind="multiplier", match={"field": "any"}, multiplier="2")
    send("orders/paid", paid(1, [line(1, "10.00")]))
    assert balance(client) == 20
    deleted = client.delete(f"/api/earning-rules/{rule['id']}", headers=auth())
    assert deleted.status_code == 200 and deleted.get_json()["active"] is False
    assert [r["active"] for r in client.get("/api/earning-rules", headers=auth()).get_json()["earning_rules"]] == [False]
    send("orders/paid", paid(2, [line(2, "10.00")]))
    assert balance(client) == 30


def test_the_breakdown_is_in_the_customers_data_export(client, installed, send):
    rule = add_rule(client, name="2x all", kind="multiplier", match={"field": "any"}, multiplier="2")
    send("orders/paid", paid(1, [line(1, "10.00")]))
    send("customers/data_request", {"shop_id": 1, "shop_domain": "rosebud-tea.myshopify.com", "orders_requested": [],
                                    "customer": {"id": 7001, "email": "ada@example.com"}, "data_request": {"id": 5}})
    [listed] = client.get("/api/data-requests", headers=auth()).get_json()["data_requests"]
    export = client.get(f"/api/data-requests/{listed['id']}", headers=auth()).get_json()["export"]
    assert export["ledger"][0]["breakdown"] == [{"rule_id": None, "label": "Base rate", "points": 10},
                                                {"rule_id": rule["id"], "label": "2x all", "points": 10}]


# Found in review


def test_a_refund_of_a_free_line_takes_back_its_per_item_bonus(client, installed, send):
    add_rule(client, name="50 per freebie", kind="bonus_points", match={"field": "sku", "value": "FREEBIE"},
             points=50, per="item")
    send("orders/paid", paid(1, [line(1, "40.00"), line(2, "5.00", sku="FREEBIE", discounts=("5.00",))]))
    assert balance(client) == 90
    send("refunds/create", refund_of(1, 501, (2, 1, "0.00")))
    assert balance(client) == 40


def test_a_gift_card_refund_follows_the_setting_the_order_earned_under(client, installed, send):
    client.patch("/api/program", json={"exclude_gift_cards": False}, headers=auth())
    send("orders/paid", paid(1, [line(1, "40.00"), line(2, "50.00", gift_card=True)]))
    assert balance(client) == 90  # gift cards counted then
    client.patch("/api/program", json={"exclude_gift_cards": True}, headers=auth())
    refund = refund_of(1, 501, (2, 1, "50.00"))
    refund["refund_line_items"][0]["line_item"]["gift_card"] = True
    send("refunds/create", refund)
    assert balance(client) == 40  # the gift card earned 50 then, so it gives back 50


@pytest.mark.parametrize("multiplier, points", [("2", 20), ("0.5", 5)])
def test_lines_that_claim_more_than_the_subtotal_are_scaled_to_it(client, installed, send, multiplier, points):
    add_rule(client, name="rule", kind="multiplier", match={"field": "any"}, multiplier=multiplier)
    send("orders/paid", paid(1, [line(1, "100.00")], subtotal="10.00"))  # an order discount not allocated
    assert balance(client) == points
    assert sum(item["points"] for item in last_award(client)["breakdown"]) == points


def test_the_readmes_worked_example(client, installed, send):
    """README "Earning rules": the same rules and order, the same figures."""
    from tests.plugin.loyalty.rules.test_product_cache import product_payload

    send("products/update", product_payload(11, "Tea", "2026-11-01T00:00:00Z"))
    send("products/update", product_payload(22, "Mugs", "2026-11-01T00:00:00Z"))
    send("products/update", product_payload(33, "Kettles", "2026-11-01T00:00:00Z"))
    tea = add_rule(client, name="2x tea", kind="multiplier", match={"field": "product_type", "value": "Tea"},
                   multiplier="2")
    mug = add_rule(client, name="25 per mug", kind="bonus_points", match={"field": "sku", "value": "MUG-1"},
                   points=25, per="item")
    big = add_rule(client, name="50 over 100", kind="bonus_points", match={"field": "any"}, points=50, per="order",
                   min_subtotal="100")
    example = paid(1, [line(1, "10.00", 2, product_id=11, sku="TEA-1", discounts=("5.00",)),
                       line(2, "15.00", 1, product_id=22, sku="MUG-1"), line(3, "80.00", 1, product_id=33)])
    send("orders/paid", example)
    assert balance(client) == 200
    assert last_award(client)["breakdown"] == [
        {"rule_id": None, "label": "Base rate", "points": 110}, {"rule_id": tea["id"], "label": "2x tea", "points": 15},
        {"rule_id": mug["id"], "label": "25 per mug", "points": 25},
        {"rule_id": big["id"], "label": "50 over 100", "points": 50}]
    send("refunds/create", refund_of(1, 501, (2, 1, "15.00")))
    assert balance(client) == 160  # the mug and its bonus; the order bonus stays
    send("orders/cancelled", example)
    assert balance(client) == 0


def test_a_refund_of_a_line_scaled_down_to_the_subtotal_takes_back_its_scaled_worth(client, installed, send):
    add_rule(client, name="2x tea", kind="multiplier", match={"field": "product_id", "value": "11"}, multiplier="2")
    send("orders/paid", paid(1, [line(1, "100.00", **TEA), line(2, "100.00", **MUG)], subtotal="150.00"))
    assert balance(client) == 225  # each line worth 75: tea 150, mug 75
    send("refunds/create", refund_of(1, 501, (1, 1, "100.00")))
    assert balance(client) == 75  # the tea line gives back the 150 it earned, not 200
