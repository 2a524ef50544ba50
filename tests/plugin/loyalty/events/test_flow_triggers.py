"""Shopify Flow triggers: fired once per change, only for a shop whose workflow uses them, with
the payload their extension declares, through throttling and outages (docs/flow.md).

Jobs run in this process here (`inprocess_app`) on both backends, so the mocked Admin API sees
the sender's calls; the sender runs in its own thread, as it does under `make run`.
"""
import json
import time
import tomllib
from datetime import datetime, timedelta, timezone

import pytest
import responses
from sqlalchemy import select

from plugin.db import transaction
from plugin.loyalty.events.flow_sender import send_due_triggers
from plugin.loyalty.events.flow_triggers import TRIGGERS, payload
from plugin.models import FlowTrigger, FlowTriggerUsage, MemberEventKind, TriggerStatus
from tests.helpers import ROOT, SHOP, auth, install, order, signed_webhook, token_answer, token_endpoint
from tests.plugin.loyalty.rewards.test_redemptions import GRAPHQL, THROTTLED
from webhooks.verification import signature

FLOW_OK = {"data": {"flowTriggerReceive": {"userErrors": []}}}


def flow_post(client, path: str, body: dict, secret: str = "test-api-secret-0123456789abcdef0123456789"):
    raw = json.dumps(body).encode()
    return client.post(path, data=raw, headers={"Content-Type": "application/json",
                                                 "X-Shopify-Hmac-Sha256": signature(secret, raw)})


def use_trigger(client, handle: str, enabled: bool = True, at: str | None = None, shop: str = SHOP):
    at = at or datetime.now(timezone.utc).isoformat()
    return flow_post(client, "/flow/lifecycle", {"flow_trigger_definition_id": handle, "has_enabled_flow": enabled,
                                                 "shop_id": 1, "shopify_domain": shop, "timestamp": at})


class FlowAPI:
    """The mocked Admin API: answers flowTriggerReceive and keeps each call's variables;
    `script` holds answers to give first (a JSON body such as THROTTLED)."""

    def __init__(self, mock):
        self.calls, self.script = [], []
        mock.add_callback(responses.POST, GRAPHQL, callback=lambda request: self.answer(request))

    def answer(self, request):
        body = json.loads(request.body)
        if self.script:
            return 200, {}, json.dumps(self.script.pop(0))
        self.calls.append(body["variables"])
        return 200, {}, json.dumps(FLOW_OK)


@pytest.fixture
def flow(inprocess_app):
    """The shop installed in an app whose jobs run in this process, the Admin API mocked."""
    client = inprocess_app.test_client()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        mock.post(token_endpoint(), json=token_answer("shpat_live"))
        install(client)
        api = FlowAPI(mock)
        yield inprocess_app, client, api


def settled(app, timeout: float = 20) -> list[FlowTrigger]:
    """Wait until no trigger call is due (the sender thread made it, or it waits for a retry)."""
    deadline = time.monotonic() + timeout
    with app.app_context():
        while True:
            with transaction() as session:
                rows = list(session.scalars(select(FlowTrigger).order_by(FlowTrigger.id)))
                session.expunge_all()
            due = [r for r in rows if r.status is TriggerStatus.PENDING and r.attempts == 0]
            if not due:
                return rows
            assert time.monotonic() < deadline, f"{len(due)} trigger call(s) still due"
            time.sleep(0.05)


def add_tier(client, **fields):
    response = client.post("/api/tiers", json=fields, headers=auth())
    assert response.status_code == 201, response.get_json()


def test_a_tier_change_fires_tier_changed_once_with_the_documented_payload(flow):
    app, client, api = flow
    assert use_trigger(client, "loyalty-tier-changed").status_code == 200
    add_tier(client, name="Silver", threshold=100, multiplier="2")
    first = order(order_id=9001, subtotal="60.00", processed_at="2026-03-01T10:00:00Z")
    assert signed_webhook(client, "orders/paid", first).status_code == 200
    assert settled(app) == [] and api.calls == []  # 60 points: no tier yet, nothing to fire
    crossing = order(order_id=9002, subtotal="40.00", processed_at="2026-03-02T10:00:00Z")
    assert signed_webhook(client, "orders/paid", crossing, webhook_id="w-9002").status_code == 200
    [row] = settled(app)
    assert row.status is TriggerStatus.SENT and row.attempts == 1
    assert api.calls == [{"handle": "loyalty-tier-changed", "payload": {
        "customer_id": 7001, "Previous tier": "", "New tier": "Silver", "Direction": "up"}}]
    # The same webhook again, and the sender again: nothing more reaches Flow.
    assert signed_webhook(client, "orders/paid", crossing, webhook_id="w-9002").status_code == 200
    with app.app_context():
        assert send_due_triggers() == 0
    assert len(api.calls) == 1


def test_a_shop_without_a_workflow_using_the_trigger_is_not_called(flow):
    app, client, api = flow
    use_trigger(client, "loyalty-points-earned")
    use_trigger(client, "loyalty-points-earned", enabled=False)
    assert signed_webhook(client, "orders/paid", order(order_id=9101)).status_code == 200
    assert settled(app) == [] and api.calls == []


def test_an_older_lifecycle_callback_arriving_late_changes_nothing(flow, db):
    app, client, api = flow
    now = datetime.now(timezone.utc)
    assert use_trigger(client, "Points earned", at=now.isoformat()).get_json()["status"] == "recorded"
    late = use_trigger(client, "loyalty-points-earned", enabled=False, at=(now - timedelta(minutes=1)).isoformat())
    assert late.status_code == 200 and late.get_json()["status"] == "older than what is recorded"
    assert [(u.handle, u.enabled) for u in db.scalars(select(FlowTriggerUsage))] == [("loyalty-points-earned", True)]


def test_points_earned_waits_out_throttling_and_is_sent_once(flow):
    app, client, api = flow
    use_trigger(client, "loyalty-points-earned")
    api.script = [THROTTLED, THROTTLED]  # the client waits for the bucket, then the call goes through
    assert signed_webhook(client, "orders/paid", order(order_id=9201, subtotal="25.00")).status_code == 200
    [row] = settled(app)
    assert row.status is TriggerStatus.SENT and row.attempts == 1
    assert api.calls == [{"handle": "loyalty-points-earned", "payload": {
        "customer_id": 7001, "Points": 25, "Source": "order", "Order ID": "9201"}}]


def test_a_call_throttled_through_every_try_waits_with_backoff_then_goes_once(flow, db):
    app, client, api = flow
    use_trigger(client, "loyalty-points-earned")
    api.script = [THROTTLED] * 5  # the client's five tries: PlatformUnavailable
    assert signed_webhook(client, "orders/paid", order(order_id=9301)).status_code == 200
    [row] = settled(app)
    assert row.status is TriggerStatus.PENDING and row.attempts == 1 and "not sent yet" in row.error
    assert row.next_attempt_at > datetime.now(timezone.utc) + timedelta(seconds=20)  # 30 s backoff
    assert api.calls == []
    with app.app_context(), transaction() as session:  # the retry falls due
        session.get(FlowTrigger, row.id).next_attempt_at = datetime.now(timezone.utc) - timedelta(seconds=1)
    with app.app_context():
        assert send_due_triggers() == 1
        assert send_due_triggers() == 0
    assert len(api.calls) == 1
    sent = db.get(FlowTrigger, row.id)
    assert sent.status is TriggerStatus.SENT and sent.attempts == 2 and sent.error is None


def test_a_refused_call_fails_at_once_and_is_not_retried(flow):
    app, client, api = flow
    use_trigger(client, "loyalty-points-earned")
    api.script = [{"data": {"flowTriggerReceive": {"userErrors": [{"field": ["handle"], "message": "Invalid"}]}}}]
    assert signed_webhook(client, "orders/paid", order(order_id=9401)).status_code == 200
    [row] = settled(app)
    assert row.status is TriggerStatus.FAILED and row.error.startswith("refused: Invalid")


@pytest.mark.parametrize("body, problem", [
    ({"has_enabled_flow": True, "shopify_domain": SHOP, "timestamp": "2026-01-01T00:00:00Z"}, 400),
    ({"flow_trigger_definition_id": "loyalty-tier-changed", "has_enabled_flow": "yes", "shopify_domain": SHOP,
      "timestamp": "2026-01-01T00:00:00Z"}, 400),
    ({"flow_trigger_definition_id": "loyalty-tier-changed", "has_enabled_flow": True, "shopify_domain": SHOP,
      "timestamp": "yesterday"}, 400),
    ({"flow_trigger_definition_id": "loyalty-tier-changed", "has_enabled_flow": True,
      "shopify_domain": "unknown.myshopify.com", "timestamp": "2026-01-01T00:00:00Z"}, 404),
])
def test_a_bad_lifecycle_callback_is_refused_and_changes_nothing(flow, db, body, problem):
    app, client, api = flow
    assert flow_post(client, "/flow/lifecycle", body).status_code == problem
    assert flow_post(client, "/flow/lifecycle", {**body, "flow_trigger_definition_id": "loyalty-tier-changed",
                                                 "has_enabled_flow": True, "shopify_domain": SHOP,
                                                 "timestamp": "2026-01-01T00:00:00Z"},
                     secret="not-the-secret").status_code == 401
    assert list(db.scalars(select(FlowTriggerUsage))) == []


def extension(handle: str) -> dict:
    [config] = [tomllib.loads(path.read_text()) for path in (ROOT / "extensions").glob("*/shopify.extension.toml")
                if f'handle = "{handle}"' in path.read_text()]
    return config["extensions"][0] | {"fields": config.get("settings", {}).get("fields", [])}


@pytest.mark.parametrize("kind, data", [
    (MemberEventKind.TIER_CHANGED, {"from": "Silver", "to": "Gold", "direction": "up"}),
    (MemberEventKind.POINTS_EXPIRING, {"points": 40, "expires_at": "2026-05-01"}),
    (MemberEventKind.REWARD_ISSUED, {"redemption_id": 3, "code": "ROSE-1"}),
    (MemberEventKind.REFERRAL_COMPLETED, {"friend_order_id": 5, "points": 100}),
    (MemberEventKind.BIRTHDAY_BONUS, {"points": 50}),
])
def test_each_payload_has_exactly_the_fields_its_extension_declares(kind, data):
    from plugin.loyalty.events.flow_triggers import FOR_KIND

    declared = extension(FOR_KIND[kind])
    assert declared["type"] == "flow_trigger" and declared["name"] == TRIGGERS[FOR_KIND[kind]]
    keys = {field["key"] for field in declared["fields"] if "key" in field}
    assert [field["type"] for field in declared["fields"]][0] == "customer_reference"
    assert set(payload(kind, 7001, data)) == keys | {"customer_id"}


def test_every_trigger_and_the_action_have_an_extension_with_a_valid_handle():
    handles = [*TRIGGERS, "loyalty-adjust-points"]
    for handle in handles:
        declared = extension(handle)
        assert len(handle) <= 30 and handle.replace("-", "").isalnum()
        assert declared["type"] == ("flow_action" if handle == "loyalty-adjust-points" else "flow_trigger")
    action = extension("loyalty-adjust-points")
    assert action["runtime_url"].endswith("/flow/actions/adjust-points")
    assert {field.get("key") for field in action["fields"]} == {None, "points", "reason"}
    assert extension("loyalty-flow-lifecycle")["url"].endswith("/flow/lifecycle")
