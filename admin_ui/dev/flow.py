"""Shopify Flow in the development store (docs/flow.md): what Flow would receive and send.

- The development platform answers `flowTriggerReceive` (graphql.py) and keeps each call
  here, so `/dev` lists the triggers the app fired, with their payloads.
- `/dev` can play Flow towards the app: a signed lifecycle callback that turns every trigger
  on for the development shop (the app fires only triggers a workflow uses), and a signed
  "Adjust points" run posted to the action's runtime_url, as Flow posts it. Both go through
  the app's real routes (webhooks/flow.py), in-process, signed with the app's secret.
"""
import json
import uuid
from datetime import datetime, timezone

from flask import current_app
from sqlalchemy.orm import Session

from admin_ui.dev import records
from plugin.db import utcnow
from plugin.loyalty.events.flow_triggers import TRIGGERS
from plugin.models import DevRecordKind
from webhooks.verification import signature

MUTATION_COST = 10
ACTION_PATH = "/flow/actions/adjust-points"
LIFECYCLE_PATH = "/flow/lifecycle"
SHOWN = 20


def trigger_receive(session: Session, shop: str, values: dict):
    """`flowTriggerReceive(handle, payload)`: kept; refused as the platform refuses an unknown
    handle or a payload over 50 KB."""
    handle, payload = str(values.get("handle") or ""), values.get("payload")
    if handle not in TRIGGERS or not isinstance(payload, dict):
        return {"userErrors": [{"field": ["handle"], "message": f"Invalid handle '{handle}'"}]}, MUTATION_COST
    if len(json.dumps(payload).encode()) > 50_000:
        return {"userErrors": [{"field": ["payload"], "message": "Payload is too large"}]}, MUTATION_COST
    records.add_if_new(session, shop, DevRecordKind.FLOW_TRIGGER, uuid.uuid4().hex,
                       {"handle": handle, "payload": payload, "received_at": utcnow().isoformat()})
    return {"userErrors": []}, MUTATION_COST


def trigger_calls(session: Session, shop: str) -> list[dict]:
    """The latest trigger calls the platform received, newest first."""
    return [record.data for record in records.listed(session, shop, DevRecordKind.FLOW_TRIGGER)[:SHOWN]]


def post_signed(path: str, body: dict) -> tuple[int, dict]:
    """POST `body` to the app's own route, signed as Flow signs it; (status, JSON answer)."""
    app = current_app._get_current_object()
    raw = json.dumps(body, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json",
               "X-Shopify-Hmac-Sha256": signature(app.config["SHOPIFY_API_SECRET"], raw)}
    with app.app_context():  # its own context: the route must not share this request's session
        answer = app.test_client().post(path, data=raw, headers=headers)
    return answer.status_code, answer.get_json(silent=True) or {}


def use_every_trigger(shop: str) -> dict[str, int]:
    """Flow's lifecycle callback for each trigger: a workflow uses it now."""
    now = datetime.now(timezone.utc).isoformat()
    return {handle: post_signed(LIFECYCLE_PATH, {"flow_trigger_definition_id": handle, "has_enabled_flow": True,
                                                 "shop_id": 0, "shopify_domain": shop, "timestamp": now})[0]
            for handle in TRIGGERS}


def run_adjust_points(shop: str, customer_id: int, points: str, reason: str) -> tuple[int, dict]:
    """One run of the action, as Flow posts it (a new action_run_id each time)."""
    return post_signed(ACTION_PATH, {
        "shop_id": 0, "shopify_domain": shop, "action_run_id": str(uuid.uuid4()),
        "action_definition_id": "loyalty-adjust-points", "handle": "loyalty-adjust-points",
        "properties": {"customer_id": str(customer_id), "points": points, "reason": reason}})
