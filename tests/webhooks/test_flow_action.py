"""Shopify Flow's "Adjust points" action (POST /flow/actions/adjust-points): signed by Flow,
applied once per action_run_id, answered from the database alone (docs/flow.md)."""
import json
import threading
import time

import pytest
import requests
from sqlalchemy import select

from plugin.models import FlowActionRun, LedgerEntry
from plugin.shopify.flow import ACTION_TIME_LIMIT_SECONDS
from tests.helpers import API_SECRET, SHOP, all_at_once, balance, order, signed_webhook, table_counts
from tests.plugin.loyalty.events.test_flow_triggers import flow, flow_post, use_trigger  # noqa: F401 (fixture)
from webhooks.verification import signature

PATH = "/flow/actions/adjust-points"


def run(run_id: str = "run-1", points=50, customer="gid://shopify/Customer/7001", shop: str = SHOP, **extra) -> dict:
    return {"shop_id": "1", "shopify_domain": shop, "action_run_id": run_id, "action_definition_id": "Adjust points",
            "handle": "loyalty-adjust-points",
            "properties": {"customer_id": customer, "points": points, "reason": "Newsletter signup", **extra}}


def funded(client, send, points: int = 40) -> None:
    send("orders/paid", order(subtotal=f"{points}.00"))


def test_a_run_adds_points_with_its_reason(client, send, installed, db):
    funded(client, send)
    answer = flow_post(client, PATH, run(points=25))
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["balance"] == 65 and answer.get_json()["status"] == "applied"
    entry = db.scalar(select(LedgerEntry).where(LedgerEntry.id == answer.get_json()["entry_id"]))
    assert entry.kind.value == "adjustment" and entry.delta == 25
    assert entry.reason == "Shopify Flow: Newsletter signup"


def test_a_customer_who_is_not_a_member_yet_becomes_one(client, installed):
    answer = flow_post(client, PATH, run(points="15", customer="7555"))
    assert answer.status_code == 200 and balance(client, 7555) == 15


def test_a_replayed_run_is_applied_once_and_answered_alike(client, send, installed, db):
    funded(client, send)
    first = flow_post(client, PATH, run(points=25))
    again = flow_post(client, PATH, run(points=25))
    assert first.status_code == again.status_code == 200
    assert again.get_json() == {**first.get_json(), "replayed": True}
    assert balance(client) == 65
    assert db.scalar(select(FlowActionRun.entry_id)) == first.get_json()["entry_id"]
    assert len([e for e in db.scalars(select(LedgerEntry)) if e.kind.value == "adjustment"]) == 1


def test_two_copies_of_a_run_arriving_together_apply_once(client, send, installed, live_server, db):
    funded(client, send)
    raw = json.dumps(run("run-together", points=10)).encode()
    headers = {"Content-Type": "application/json", "X-Shopify-Hmac-Sha256": signature(API_SECRET, raw)}
    answers = all_at_once(4, lambda _n: requests.post(f"{live_server}{PATH}", data=raw, headers=headers, timeout=30))
    assert [a.status_code for a in answers] == [200] * 4
    assert sorted(bool(a.json().get("replayed")) for a in answers) == [False, True, True, True]
    assert balance(client) == 50


@pytest.mark.parametrize("header", [None, "", signature("not-the-secret", json.dumps(run()).encode()),
                                    signature(API_SECRET, b"another body")])
def test_a_run_without_flows_signature_is_refused_and_changes_nothing(client, send, installed, db, header):
    funded(client, send)
    before = table_counts(db)
    headers = {"Content-Type": "application/json"} | ({"X-Shopify-Hmac-Sha256": header} if header is not None else {})
    answer = client.post(PATH, data=json.dumps(run()).encode(), headers=headers)
    assert answer.status_code == 401 and "signature" in answer.get_json()["error"]
    assert table_counts(db) == before and balance(client) == 40


@pytest.mark.parametrize("body, status, field", [
    (b"not json", 400, None),
    (b"[1, 2]", 400, None),
    (json.dumps({**run(), "action_run_id": ""}).encode(), 400, None),
    (json.dumps({**run(), "properties": "points=5"}).encode(), 400, None),
    (json.dumps(run(shop="never-installed.myshopify.com")).encode(), 404, None),
    (json.dumps(run(points=0)).encode(), 422, "points"),
    (json.dumps(run(points=2.5)).encode(), 422, "points"),
    (json.dumps(run(points="lots")).encode(), 422, "points"),
    (json.dumps(run(points=True)).encode(), 422, "points"),
    (json.dumps(run(customer="gid://shopify/Order/1")).encode(), 422, "customer_id"),
    (json.dumps(run(customer=None)).encode(), 422, "customer_id"),
])
def test_a_bad_run_is_refused_naming_the_problem_and_changes_nothing(client, send, installed, db, body, status,
                                                                      field):
    funded(client, send)
    before = table_counts(db)
    answer = client.post(PATH, data=body, headers={"Content-Type": "application/json",
                                                   "X-Shopify-Hmac-Sha256": signature(API_SECRET, body)})
    assert answer.status_code == status, answer.get_json()
    if field:
        assert field in answer.get_json()["fields"]
        # The refusal is kept, so Flow's retry is refused alike; nothing else changed.
        assert table_counts(db) == {**before, "flow_action_runs": 1}
    else:
        assert table_counts(db) == before
    assert balance(client) == 40


def test_a_risky_run_is_refused_with_its_risks_since_flow_cannot_confirm(client, send, installed, db):
    funded(client, send)
    before = table_counts(db)
    answer = flow_post(client, PATH, run(points=-100))
    assert answer.status_code == 422 and "below zero" in answer.get_json()["risks"][0]
    assert flow_post(client, PATH, run(points=-100)).get_json()["replayed"] is True
    assert table_counts(db) == {**before, "flow_action_runs": 1} and balance(client) == 40


def test_a_slow_admin_api_does_not_delay_the_answer(flow):
    """A trigger call hangs on the Admin API (past Flow's time limit) while Flow posts a run:
    the run is answered at once, since nothing in it waits for the platform."""
    app, client, api = flow
    entered, release = threading.Event(), threading.Event()
    answer_trigger = api.answer

    def slow(request):
        entered.set()
        release.wait(ACTION_TIME_LIMIT_SECONDS * 3)
        return answer_trigger(request)

    api.answer = slow
    try:
        use_trigger(client, "loyalty-points-earned")
        assert signed_webhook(client, "orders/paid", order(order_id=9501, subtotal="40.00")).status_code == 200
        assert entered.wait(20), "the sender never called the Admin API"
        started = time.monotonic()
        answer = flow_post(client, PATH, run("run-slow", points=5))
        elapsed = time.monotonic() - started
        assert answer.status_code == 200 and answer.get_json()["balance"] == 45
        assert not release.is_set() and api.calls == []  # the Admin API call was still hanging
        assert elapsed < ACTION_TIME_LIMIT_SECONDS / 2
    finally:
        release.set()
