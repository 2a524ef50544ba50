"""Start from the store's past: the orders of the last N days, read by a bulk operation the
Admin API answers (mocked with `responses`, in the platform's shapes), previewed, then
applied through the paid-order use case. The job runs in this process (as a worker would
run it), so the mock answers it on both backends; webhooks go through the signed intake."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from plugin.db import utcnow
from plugin.models import EntryKind, Import, LedgerEntry
from tests.admin_ui.test_imports_api import act, points_of, verify_ledger
from tests.helpers import auth, balance, order
from tests.plugin.shopify.test_client import GRAPHQL
from tests.webhooks.test_reconcile import node

RESULT = "https://storage.example/bulk/orders.jsonl"
OPERATION = "gid://shopify/BulkOperation/777"
ADA, GRACE = 7001, 7002


def days_ago(days: int) -> str:
    return (utcnow() - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def bulk_lines(*nodes: dict) -> str:
    """Orders as a grouped bulk result: each order, then its children with `__parentId`."""
    out = []
    for found in nodes:
        lines, refunds = found["lineItems"]["nodes"], found["refunds"]
        out.append({**{k: v for k, v in found.items() if k != "lineItems"},
                    "refunds": [{k: v for k, v in r.items() if k != "refundLineItems"} for r in refunds]})
        out += [{**line, "__parentId": found["id"]} for line in lines]
        out += [{**line, "__parentId": r["id"]} for r in refunds for line in r["refundLineItems"]["nodes"]]
    return "".join(json.dumps(line) + "\n" for line in out)


def past(order_id: int, subtotal: str, days: int, **kwargs) -> dict:
    found = node(order_id, subtotal, **kwargs)
    return {**found, "processedAt": days_ago(days), "createdAt": days_ago(days)}


ORDERS = (past(9001, "40.00", 20), past(9002, "25.00", 10, customer_id=GRACE),
          past(9003, "30.00", 5, refunds=[(51, "10.00")]),  # 30 less the 10 refunded
          past(9004, "99.00", 4, customer_id=None),  # a guest's: no one earns
          past(9005, "15.00", 3, status="PENDING"))  # not paid: no points


@pytest.fixture
def store(platform, monkeypatch):
    """The Admin API: the bulk operation starts, runs once, completes; its result is ORDERS."""
    monkeypatch.setattr("webhooks.past_orders.POLL_SECONDS", 0)
    monkeypatch.setattr("admin_ui.imports.request_job", lambda *args, **kwargs: True)  # the test runs the job
    polls = []

    def answer(request):
        body = json.loads(request.body)
        if "bulkOperationRunQuery" in body["query"]:
            assert body["variables"]["group"] is True and "processed_at:>=" in body["variables"]["query"]
            data = {"bulkOperationRunQuery": {"bulkOperation": {"id": OPERATION, "status": "CREATED"},
                                              "userErrors": []}}
        else:
            assert body["variables"] == {"id": OPERATION}
            polls.append(1)
            done = len(polls) > 1
            data = {"node": {"id": OPERATION, "status": "COMPLETED" if done else "RUNNING", "errorCode": None,
                             "objectCount": "9", "url": RESULT if done else None}}
        return 200, {}, json.dumps({"data": data})

    platform.add_callback("POST", GRAPHQL, callback=answer)
    platform.get(RESULT, body=bulk_lines(*ORDERS))
    return platform


def run_job(app):
    with app.app_context():
        from webhooks.past_orders import run_past_orders
        return run_past_orders()


def start(client, days=30):
    return client.post("/api/imports/orders", json={"days": days}, headers=auth())


def test_past_orders_are_previewed_then_applied_as_paid_orders(app, client, db, store):
    started = start(client)
    assert started.status_code == 202 and started.get_json()["status"] == "fetching"
    before = points_of(db)

    run_job(app)

    found = client.get(f"/api/imports/{started.get_json()['id']}", headers=auth()).get_json()
    assert {k: found[k] for k in ("status", "kind", "format", "rows", "members_new", "members_matched",
                                  "points_total")} == {
        "status": "previewed", "kind": "orders", "format": "store", "rows": 3, "members_new": 2,
        "members_matched": 0, "points_total": 40 + 25 + 20}
    assert points_of(db) == before  # the preview moved nothing
    assert sorted((s["customer_id"], s["points"]) for s in found["sample"]) == [("7001", 20), ("7001", 40),
                                                                               ("7002", 25)]

    applying = act(client, found["id"], "apply")
    assert applying.status_code == 202 and applying.get_json()["status"] == "applying"
    run_job(app)

    done = client.get(f"/api/imports/{found['id']}", headers=auth()).get_json()
    assert (done["status"], done["rows_done"], done["rows"]) == ("applied", 3, 3)
    assert balance(client, ADA) == 60 and balance(client, GRACE) == 25
    # The order's own business time is kept: its lot counts from when it was processed.
    entry = db.scalar(select(LedgerEntry).where(LedgerEntry.order_id == 9001,
                                                LedgerEntry.kind == EntryKind.ORDER_AWARD))
    assert entry.delta == 40
    verify_ledger(app)


def test_webhooks_for_the_same_orders_never_award_twice(app, client, db, store, send):
    started = start(client).get_json()
    run_job(app)
    # The order's webhook arrives between the preview and the apply ...
    send("orders/paid", order(9001, customer_id=ADA, subtotal="40.00"))
    assert balance(client, ADA) == 40
    act(client, started["id"], "apply")
    run_job(app)
    assert balance(client, ADA) == 60 and balance(client, GRACE) == 25
    # ... and again after it.
    send("orders/paid", order(9002, customer_id=GRACE, subtotal="25.00"), webhook_id="late-9002")
    assert balance(client, GRACE) == 25
    awards = db.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == EntryKind.ORDER_AWARD))
    assert awards == 3
    # Applying again, and reverting, change nothing.
    assert act(client, started["id"], "apply").status_code == 200
    assert act(client, started["id"], "revert").status_code == 422
    assert balance(client, ADA) == 60
    verify_ledger(app)


@pytest.mark.parametrize("body", [{"days": 61}, {"days": 0}, {"days": "30"}, {"days": True}, {}, [30]])
def test_a_bad_number_of_days_is_refused_and_keeps_nothing(client, db, store, body):
    before = db.scalar(select(func.count()).select_from(Import))

    refused = client.post("/api/imports/orders", json=body, headers=auth())

    assert refused.status_code == 422 and "days" in refused.get_json()["fields"]
    assert db.scalar(select(func.count()).select_from(Import)) == before


def test_a_failed_bulk_operation_fails_the_import(app, client, db, platform, monkeypatch):
    monkeypatch.setattr("admin_ui.imports.request_job", lambda *args, **kwargs: True)

    def answer(request):
        if "bulkOperationRunQuery" in json.loads(request.body)["query"]:
            data = {"bulkOperationRunQuery": {"bulkOperation": {"id": OPERATION, "status": "CREATED"},
                                              "userErrors": []}}
        else:
            data = {"node": {"id": OPERATION, "status": "FAILED", "errorCode": "TIMEOUT", "objectCount": "0",
                             "url": None}}
        return 200, {}, json.dumps({"data": data})

    platform.add_callback("POST", GRAPHQL, callback=answer)
    started = start(client).get_json()
    before = points_of(db)

    run_job(app)

    found = client.get(f"/api/imports/{started['id']}", headers=auth()).get_json()
    assert found["status"] == "failed" and "TIMEOUT" in found["errors"][0]["message"]
    assert act(client, started["id"], "apply").status_code == 422
    assert points_of(db) == before
