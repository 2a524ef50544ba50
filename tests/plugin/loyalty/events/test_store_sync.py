"""Store sync: balances and tiers written to the store's customers (metafields and tags),
coalesced, 25 values to a call, tags only on a tier change, through throttling and outages,
never for a redacted customer, and not at all when the shop turns it off."""
import json

import pytest
import responses

from plugin.db import transaction
from plugin.loyalty.events.member_events import record_event
from plugin.models import Member, MemberEventKind, StoreSync
from plugin.schedule import run_periodic
from tests.helpers import auth, balance, order, refund, signed_webhook
from tests.plugin.loyalty.rewards.test_redemptions import GRAPHQL, THROTTLED, redeem, reward_id
from tests.plugin.loyalty.test_privacy import customer_redact


class AdminAPI:
    """The mocked Admin API: answers each mutation as the platform does and keeps the calls;
    `script` holds answers to give first (a status code, or a JSON body such as THROTTLED)."""

    def __init__(self, mock):
        self.calls, self.script = [], []
        mock.add_callback(responses.POST, GRAPHQL, callback=self.answer)

    def answer(self, request):
        if self.script:
            scripted = self.script.pop(0)
            return (scripted, {}, "{}") if isinstance(scripted, int) else (200, {}, json.dumps(scripted))
        body = json.loads(request.body)
        self.calls.append(body)
        field = body["query"].split("{", 2)[1].split("(")[0].strip()
        answers = {"metafieldsSet": {"metafields": [], "userErrors": []},
                   "metafieldsDelete": {"deletedMetafields": [], "userErrors": []},
                   "tagsAdd": {"node": {"id": body["variables"].get("id")}, "userErrors": []},
                   "tagsRemove": {"node": {"id": body["variables"].get("id")}, "userErrors": []}}
        return 200, {}, json.dumps({"data": {field: answers[field]}})

    def named(self, mutation: str) -> list[dict]:
        return [call["variables"] for call in self.calls if f"{mutation}(" in call["query"]]

    def points(self) -> dict[int, int]:
        """The last points value set for each customer."""
        written = {}
        for variables in self.named("metafieldsSet"):
            for value in variables["metafields"]:
                if value["key"] == "points":
                    written[int(value["ownerId"].rsplit("/", 1)[1])] = int(value["value"])
        return written


@pytest.fixture
def admin(platform):
    return AdminAPI(platform)


def sync(app) -> dict:
    with app.app_context():
        return run_periodic("store-sync")


def adjust(client, points: int, customer_id: int = 7001):
    response = client.post(f"/api/members/{customer_id}/adjustments", json={"points": points, "reason": "test"},
                           headers=auth())
    assert response.status_code == 201, response.get_json()


def change_tier(app, customer_id: int, old: str | None, new: str | None, key: str):
    """A tier change as the tiers feature records it: a `tier_changed` event."""
    with app.app_context(), transaction() as session:
        member = session.query(Member).filter_by(customer_id=customer_id).one()
        record_event(session, member.shop_id, member.id, MemberEventKind.TIER_CHANGED, key,
                     {"from": old, "to": new, "direction": "up"})


def test_a_thousand_balance_changes_of_a_hundred_members_take_four_calls(app, client, settle, admin):
    for round_ in range(10):
        for customer in range(100):
            signed_webhook(client, "orders/paid", order(customer_id=8000 + customer, subtotal=f"{round_ + 1}.00"))
    settle()
    assert balance(client, 8000) == 55 and balance(client, 8099) == 55  # 1 + 2 + ... + 10
    done = sync(app)
    sets = admin.named("metafieldsSet")
    assert 1 <= len(sets) <= 4 and all(len(call["metafields"]) <= 25 for call in sets)
    assert admin.points() == {8000 + customer: 55 for customer in range(100)}
    assert admin.named("tagsAdd") == [] and admin.named("tagsRemove") == []
    assert done == {"members": 100, "calls": len(sets)}
    assert sync(app) == {"members": 0, "calls": 0}  # written once: nothing left to send


def test_five_changes_before_a_run_are_written_once_with_the_latest_balance(app, client, send, admin):
    send("orders/paid", order(subtotal="40.00"))  # balance 40
    for points in (5, -3, 10, 1):
        adjust(client, points)  # 45, 42, 52, 53
    assert balance(client) == 53
    sync(app)
    assert admin.named("metafieldsSet") == [{"metafields": [{
        "ownerId": "gid://shopify/Customer/7001", "namespace": "loyalty", "key": "points",
        "type": "number_integer", "value": "53"}]}]
    adjust(client, -13)  # 40
    sync(app)
    assert admin.points() == {7001: 40} and len(admin.named("metafieldsSet")) == 2


def test_tags_move_only_when_the_tier_does(app, client, send, admin):
    send("orders/paid", order(subtotal="40.00"))  # balance 40
    change_tier(app, 7001, None, "Gold", "t1")
    sync(app)
    [written] = admin.named("metafieldsSet")
    assert {(v["key"], v["value"]) for v in written["metafields"]} == {("points", "40"), ("tier", "Gold")}
    assert admin.named("tagsAdd") == [{"id": "gid://shopify/Customer/7001", "tags": ["loyalty-tier-gold"]}]
    assert admin.named("tagsRemove") == []
    adjust(client, 7)  # 47: points only
    sync(app)
    assert admin.named("metafieldsSet")[-1]["metafields"][0]["value"] == "47"
    assert len(admin.named("metafieldsSet")[-1]["metafields"]) == 1 and len(admin.named("tagsAdd")) == 1
    change_tier(app, 7001, "Gold", "Platinum Plus", "t2")
    sync(app)
    assert admin.named("metafieldsSet")[-1]["metafields"] == [{
        "ownerId": "gid://shopify/Customer/7001", "namespace": "loyalty", "key": "tier",
        "type": "single_line_text_field", "value": "Platinum Plus"}]
    assert admin.named("tagsRemove") == [{"id": "gid://shopify/Customer/7001", "tags": ["loyalty-tier-gold"]}]
    assert admin.named("tagsAdd")[-1]["tags"] == ["loyalty-tier-platinum-plus"]
    change_tier(app, 7001, "Platinum Plus", None, "t3")
    sync(app)
    assert admin.named("metafieldsDelete") == [{"metafields": [
        {"ownerId": "gid://shopify/Customer/7001", "namespace": "loyalty", "key": "tier"}]}]
    assert admin.named("tagsRemove")[-1]["tags"] == ["loyalty-tier-platinum-plus"]
    calls = len(admin.calls)
    sync(app)
    assert len(admin.calls) == calls


def test_throttled_answers_are_waited_out(app, client, send, admin):
    waits = []
    app.config["ADMIN_API_SLEEP"] = waits.append
    try:
        send("orders/paid", order(subtotal="40.00"))
        admin.script = [THROTTLED, THROTTLED]
        sync(app)
    finally:
        app.config["ADMIN_API_SLEEP"] = lambda seconds: None
    assert waits == [0.5, 0.5]  # (10 requested - 0 available) / 100 per second, at least 0.5 s
    assert admin.points() == {7001: 40}


def test_an_outage_leaves_members_pending_and_the_next_run_resumes(app, client, send, admin, db):
    send("orders/paid", order(subtotal="40.00"))
    send("orders/paid", order(customer_id=7002, subtotal="25.00"))
    admin.script = [503] * 5  # every try of the first call
    assert sync(app)["calls"] == 0
    assert admin.calls == [] and db.query(StoreSync).filter_by(pending=True).count() == 2
    sync(app)
    assert admin.points() == {7001: 40, 7002: 25}
    assert db.query(StoreSync).filter_by(pending=True).count() == 0


def test_a_refused_value_is_recorded_and_the_rest_of_the_batch_is_written(app, client, send, admin, db):
    send("orders/paid", order(subtotal="40.00"))
    send("orders/paid", order(customer_id=7002, subtotal="25.00"))
    admin.script = [{"data": {"metafieldsSet": {"metafields": None, "userErrors": [
        {"field": ["metafields", "0", "ownerId"], "message": "Owner does not exist", "code": "INVALID"}]}}}]
    sync(app)
    assert admin.points() == {7002: 25}
    row = db.query(StoreSync).join(Member, Member.id == StoreSync.member_id).filter(Member.customer_id == 7001).one()
    assert "Owner does not exist" in row.error and row.pending is False
    assert sync(app)["calls"] == 0  # not retried in a loop


def test_a_redacted_customer_is_never_written(app, client, send, admin):
    send("orders/paid", order(subtotal="40.00"))
    send("orders/paid", order(customer_id=7002, subtotal="25.00"))
    send("customers/redact", customer_redact(7001))
    adjust(client, 5, customer_id=7001)
    sync(app)
    assert admin.points() == {7002: 25}
    assert all("7001" not in json.dumps(call) for call in admin.calls)


def test_a_customer_merged_into_another_is_never_written_and_the_kept_one_is(app, client, send, admin):
    send("orders/paid", order(subtotal="40.00"))
    send("orders/paid", order(customer_id=7002, subtotal="25.00"))
    send("customers/merge", {"admin_graphql_api_customer_kept_id": "gid://shopify/Customer/7002",
                             "admin_graphql_api_customer_deleted_id": "gid://shopify/Customer/7001",
                             "admin_graphql_api_job_id": None, "status": "completed", "errors": []})
    sync(app)
    assert admin.points() == {7002: 65}
    assert all("Customer/7001" not in json.dumps(call) for call in admin.calls)


def test_a_shop_that_turns_the_sync_off_is_not_written_until_it_turns_it_on(app, client, send, admin):
    off = client.patch("/api/program", json={"store_sync_enabled": False}, headers=auth())
    assert off.status_code == 200 and off.get_json()["store_sync_enabled"] is False
    send("orders/paid", order(subtotal="40.00"))
    sync(app)
    assert admin.calls == []
    client.patch("/api/program", json={"store_sync_enabled": True}, headers=auth())
    sync(app)
    assert admin.points() == {7001: 40}


def test_the_setting_refuses_what_is_not_a_flag(client, installed):
    response = client.patch("/api/program", json={"store_sync_enabled": "yes"}, headers=auth())
    assert response.status_code == 422 and "store_sync_enabled" in response.get_json()["fields"]
    assert client.get("/api/program", headers=auth()).get_json()["store_sync_enabled"] is True


def versions(db) -> dict[int, int]:
    """How many times each customer was marked for the store sync."""
    return dict(db.query(Member.customer_id, StoreSync.version).join(Member, Member.id == StoreSync.member_id))


def test_every_way_points_move_marks_the_member_for_the_sync(app, client, send, admin, db):
    # The marking is a trigger on members.balance (migration 0015): a migration that rebuilt
    # the members table without it would fail here.
    paid = order(subtotal="40.00")
    send("orders/paid", paid)  # 40: the member is created with points
    assert versions(db) == {7001: 1}
    send("refunds/create", refund(paid["id"], "10.00"))  # 30
    assert versions(db) == {7001: 2}
    adjust(client, 500)  # 530
    assert versions(db) == {7001: 3}
    admin.script = [{"data": {"discountCodeBasicCreate": {"codeDiscountNode": {"id": "gid://x/1"}, "userErrors": []}}}]
    assert redeem(client, reward_id(client)).status_code == 201  # 30
    assert versions(db) == {7001: 4}
    send("orders/cancelled", {**paid, "cancelled_at": "2026-11-02T10:00:00-05:00"})  # 0
    assert versions(db) == {7001: 5} and balance(client) == 0
    send("customers/create", {"id": 7002, "email": "b@example.com", "first_name": "B", "last_name": "C",
                              "created_at": "2026-11-01T10:00:00-05:00", "updated_at": "2026-11-01T10:00:00-05:00"})
    assert 7002 not in versions(db)  # no points, nothing to write
    sync(app)
    assert admin.points() == {7001: 0}
