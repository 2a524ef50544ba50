"""Tier perks that apply themselves: a customer segment on the tier's tag and an automatic discount
for it, created, changed and removed with the tier (SHOPIFY.md 11).

Before, Gold's "Free shipping on every order" was only text, and a Gold member still spent 400
points on a Free shipping reward.
"""
import json
from datetime import timedelta

import pytest
import responses

from plugin.db import transaction, utcnow
from plugin.loyalty.rewards.tier_perks import sync_due_perks
from plugin.models import Tier
from tests.helpers import OTHER_SHOP, SHOP, auth, order, proxy_url, table_counts

GRAPHQL = f"https://{SHOP}/admin/api/2026-10/graphql.json"
SEGMENT = "gid://shopify/Segment/41"


class Admin:
    """The Admin API's segments and automatic discounts, as `responses` answers them."""

    def __init__(self, mock):
        self.calls: list[tuple[str, dict]] = []
        self.down = False
        self.refuse: str | None = None  # a mutation to answer with userErrors
        self.made = 0
        mock.add_callback(responses.POST, GRAPHQL, callback=self.answer)

    def answer(self, request):
        body = json.loads(request.body)
        name = next(word for word in ("segmentCreate", "segmentUpdate", "segmentDelete",
                                      "discountAutomaticBasicCreate", "discountAutomaticFreeShippingCreate",
                                      "discountAutomaticBasicUpdate", "discountAutomaticFreeShippingUpdate",
                                      "discountAutomaticDelete", "discountCode") if word in body["query"])
        if self.down:
            return 503, {}, "{}"
        self.calls.append((name, body["variables"]))
        if name == self.refuse:
            return 200, {}, json.dumps({"data": {name: {"userErrors": [
                {"field": ["name"], "message": "Name has already been taken", "code": "TAKEN"}]}}})
        self.made += 1
        answers = {
            "segmentCreate": {"segment": {"id": SEGMENT}},
            "segmentUpdate": {"segment": {"id": SEGMENT}},
            "segmentDelete": {"deletedSegmentId": SEGMENT},
            "discountAutomaticDelete": {"deletedAutomaticDiscountId": "gone"},
        }
        data = answers.get(name, {"automaticDiscountNode": {"id": f"gid://shopify/DiscountAutomaticNode/{self.made}"}})
        return 200, {}, json.dumps({"data": {name: {**data, "userErrors": []}}})

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


def rewards(client, shop: str = SHOP) -> dict[str, dict]:
    return {r["name"]: r for r in client.get("/api/rewards", headers=auth(shop)).get_json()["rewards"]}


def gold(client, **fields):
    return client.post("/api/tiers", json={"name": "Gold", "threshold": 1000, **fields}, headers=auth())


@pytest.fixture
def admin(platform):
    return Admin(platform)


def test_a_tier_with_a_perk_gets_a_segment_on_its_tag_and_an_automatic_discount_for_it(client, admin):
    free_shipping = rewards(client)["Free shipping"]["id"]
    response = gold(client, perk_reward_id=free_shipping)
    assert response.status_code == 201, response.get_json()
    tier = response.get_json()
    assert (tier["perk_reward_id"], tier["perk_state"], tier["perk_error"]) == (free_shipping, "synced", None)
    assert admin.names() == ["segmentCreate", "discountAutomaticFreeShippingCreate"]
    segment, discount = admin.calls[0][1], admin.calls[1][1]["discount"]
    assert segment["query"] == "customer_tags CONTAINS 'loyalty-tier-gold'" and "Gold" in segment["name"]
    assert discount["context"] == {"customerSegments": {"add": [SEGMENT]}}
    assert discount["title"] == "Free shipping (Gold members)" and discount["destination"] == {"all": True}
    assert "customerGets" not in discount
    assert rewards(client)["Free shipping"]["used_by"] == ["tier_perk"]


def test_changing_the_perk_the_name_or_the_reward_changes_the_discount(client, admin):
    tier = gold(client, perk_reward_id=rewards(client)["Free shipping"]["id"]).get_json()
    ten = rewards(client)["10% off your order"]["id"]
    admin.calls.clear()
    changed = client.patch(f"/api/tiers/{tier['id']}", json={"perk_reward_id": ten}, headers=auth())
    assert changed.status_code == 200 and changed.get_json()["perk_state"] == "synced"
    # Free shipping and a percentage are different discounts on the platform: the old one goes.
    assert admin.names() == ["segmentUpdate", "discountAutomaticDelete", "discountAutomaticBasicCreate"]
    assert admin.calls[2][1]["discount"]["customerGets"] == {"value": {"percentage": 0.1}, "items": {"all": True}}
    admin.calls.clear()
    client.patch(f"/api/tiers/{tier['id']}", json={"name": "Gold Circle"}, headers=auth())
    assert admin.names() == ["segmentUpdate", "discountAutomaticBasicUpdate"]
    assert admin.calls[0][1]["query"] == "customer_tags CONTAINS 'loyalty-tier-gold-circle'"
    admin.calls.clear()
    client.patch(f"/api/rewards/{ten}", json={"value": "15"}, headers=auth())
    assert admin.names() == ["segmentUpdate", "discountAutomaticBasicUpdate"]
    assert admin.calls[1][1]["discount"]["customerGets"]["value"] == {"percentage": 0.15}
    admin.calls.clear()
    client.patch(f"/api/tiers/{tier['id']}", json={"multiplier": "2"}, headers=auth())
    assert admin.calls == []  # nothing the perk depends on changed


@pytest.mark.parametrize("removal", ["delete the tier", "drop the perk"])
def test_removing_the_perk_removes_the_discount_then_the_segment(client, admin, removal):
    tier = gold(client, perk_reward_id=rewards(client)["Free shipping"]["id"]).get_json()
    admin.calls.clear()
    if removal == "delete the tier":
        response = client.delete(f"/api/tiers/{tier['id']}", headers=auth())
    else:
        response = client.patch(f"/api/tiers/{tier['id']}", json={"perk_reward_id": None}, headers=auth())
    assert response.status_code == 200 and response.get_json()["perk_state"] is None
    assert [(name, values["id"]) for name, values in admin.calls] == [
        ("discountAutomaticDelete", "gid://shopify/DiscountAutomaticNode/2"), ("segmentDelete", SEGMENT)]
    assert rewards(client)["Free shipping"]["used_by"] == []


@pytest.mark.parametrize("method, body", [
    ("patch", {"active": False}),
    ("patch", {"kind": "amount_off", "value": "5"}),
    ("delete", None),
])
def test_withdrawing_a_perk_reward_is_409_naming_the_tier_and_changes_nothing(client, db, admin, method, body):
    free_shipping = rewards(client)["Free shipping"]["id"]
    gold(client, perk_reward_id=free_shipping)
    admin.calls.clear()
    before = table_counts(db)
    response = getattr(client, method)(f"/api/rewards/{free_shipping}", headers=auth(),
                                       **({} if body is None else {"json": body}))
    assert response.status_code == 409
    assert "the perk of the tier Gold" in response.get_json()["error"]
    assert table_counts(db) == before and admin.calls == []
    reward = rewards(client)["Free shipping"]
    assert (reward["active"], reward["kind"], reward["used_by"]) == (True, "free_shipping", ["tier_perk"])


@pytest.mark.parametrize("case, message", [
    ("amount off", "free_shipping or percentage_off"),
    ("inactive", "free_shipping or percentage_off"),
    ("unknown", "a reward of this shop"),
    ("other shop's", "a reward of this shop"),
    ("not an id", "a reward of this shop"),
])
def test_a_perk_that_is_not_an_active_perk_reward_of_this_shop_is_422_and_changes_nothing(client, db, admin,
                                                                                        installed, case, message):
    mine = rewards(client)
    if case == "inactive":
        client.patch(f"/api/rewards/{mine['Free shipping']['id']}", json={"active": False}, headers=auth())
    perk = {"amount off": mine["5 off your order"]["id"], "inactive": mine["Free shipping"]["id"],
            "unknown": 999999, "other shop's": rewards(client, OTHER_SHOP)["Free shipping"]["id"],
            "not an id": "gold"}[case]
    before = table_counts(db)
    response = gold(client, perk_reward_id=perk)
    assert response.status_code == 422 and message in response.get_json()["fields"]["perk_reward_id"]
    assert table_counts(db) == before and admin.calls == []


def test_a_platform_that_is_down_leaves_the_perk_pending_until_the_periodic_sync(app, client, admin):
    admin.down = True
    tier = gold(client, perk_reward_id=rewards(client)["Free shipping"]["id"]).get_json()
    assert tier["perk_state"] == "pending" and "did not answer" in tier["perk_error"]
    admin.down = False
    with app.app_context(), transaction() as session:
        session.query(Tier).update({"perk_next_attempt_at": utcnow() - timedelta(seconds=1)})
    with app.app_context():
        assert sync_due_perks() == {"synced": 1}
    listed = client.get("/api/tiers", headers=auth()).get_json()["tiers"]
    assert [(t["perk_state"], t["perk_error"]) for t in listed] == [("synced", None)]
    assert admin.names() == ["segmentCreate", "discountAutomaticFreeShippingCreate"]


def test_a_refusal_is_shown_on_the_tier_and_saving_again_retries(client, admin):
    admin.refuse = "segmentCreate"
    tier = gold(client, perk_reward_id=rewards(client)["Free shipping"]["id"]).get_json()
    assert tier["perk_state"] == "failed" and "Name has already been taken" in tier["perk_error"]
    admin.refuse = None
    again = client.patch(f"/api/tiers/{tier['id']}", json={"perks": "Free shipping on every order"}, headers=auth())
    assert again.get_json()["perk_state"] == "synced"


def test_a_member_is_not_offered_for_points_what_their_tier_already_gives(client, send, admin):
    free_shipping = rewards(client)["Free shipping"]["id"]
    gold(client, threshold=100, perk_reward_id=free_shipping)
    send("orders/paid", order(customer_id=7001, subtotal="600.00"))  # Gold, with 600 points
    send("orders/paid", order(customer_id=7002, subtotal="50.00"))  # no tier
    gold_panel = client.get(proxy_url("/proxy/panel.json", customer_id="7001")).get_json()
    plain_panel = client.get(proxy_url("/proxy/panel.json", customer_id="7002")).get_json()
    assert str(free_shipping) not in [r["id"] for r in gold_panel["rewards"]]
    assert str(free_shipping) not in gold_panel["redeemable"]
    assert str(free_shipping) in [r["id"] for r in plain_panel["rewards"]]
    page = client.get(proxy_url("/proxy/", customer_id="7001", extra=[("format", "html")])).get_data(as_text=True)
    assert "<td>Free shipping</td>" not in page and "<td>5 off your order</td>" in page
