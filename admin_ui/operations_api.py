"""The admin API's operations routes: the shop's webhook events, a retry for failed ones, and
what reconciliation healed (`GET /api/reconciliations`, the shop's recent runs), and the
orders whose subtotal disagrees with their lines (`GET /api/orders/subtotal-mismatches`).

The panel's operations view lists the deliveries that could not be processed, with their
error, and puts one back in line on request. Events are stored by shop domain, so every
read and the retry filter on the token's shop: another shop's event id is a 404 and
changes nothing. A retry only marks the event pending and asks for a drain, exactly like
`flask retry-failed`; the drain runs in-process without Redis, on a worker with it.
"""
import time

from flask import Blueprint, g, jsonify, request

from admin_ui.api import error
from admin_ui.openapi import documented
from plugin.db import request_session
from plugin.loyalty.fields import one_of
from plugin.loyalty.subtotals import subtotal_mismatches
from plugin.models import EventStatus
from webhooks.jobs import schedule_drain
from webhooks.processing import find_shop_event, retry_failed, shop_events
from webhooks.reconcile import recent_runs

bp = Blueprint("operations_api", __name__)  # under /api, authenticated there: admin_ui/api_root.py


@bp.get("/events")
@documented("The shop's webhook events of a status (default failed)", query={"status": "string"},
            answers={200: "`{events}`", 422: "an unknown status"})
def list_events():
    try:
        status = one_of(request.args.get("status", EventStatus.FAILED.value), EventStatus)
    except ValueError as problem:
        return error(422, "invalid query", fields={"status": str(problem)})
    events = shop_events(request_session(), g.shop.domain, status)
    return jsonify(events=[event_json(event) for event in events])


@bp.post("/events/<int(max=9223372036854775807):event_id>/retry")
@documented("Process a failed webhook event again",
            answers={200: "the event", 404: "no such webhook event in this shop", 409: "the event has not failed"})
def retry_event(event_id: int):
    session = request_session()
    if find_shop_event(session, g.shop.domain, event_id) is None:
        return error(404, "no such webhook event in this shop")
    if retry_failed(session, [event_id], shop_domain=g.shop.domain) != 1:
        session.rollback()
        return error(409, "only a failed event can be retried")
    session.commit()
    # A fresh trigger per click: the drain job id must not collide with one that just ran.
    schedule_drain(f"retry-event-{event_id}-{time.time_ns()}")
    session.expire_all()
    return jsonify(event_json(find_shop_event(session, g.shop.domain, event_id)))


def event_json(event) -> dict:
    return {
        "id": event.id,
        "topic": event.topic,
        "webhook_id": event.webhook_id,
        "status": event.status.value,
        "attempts": event.attempts,
        "last_error": event.last_error,
        "received_at": event.received_at.isoformat(),
    }


@bp.get("/reconciliations")
@documented("The shop's recent reconciliation runs: what each read and healed")
def list_reconciliations():
    """The shop's recent reconciliation runs: what each read and healed (webhooks/reconcile.py)."""
    return jsonify(runs=[run_json(run) for run in recent_runs(request_session(), g.shop.id)])


def run_json(run) -> dict:
    return {
        "id": run.id,
        "started_at": run.started_at.isoformat(),
        "since": run.since.isoformat(),
        "orders_read": run.orders_read,
        "missed_orders": run.missed_orders,
        "refunds": run.refunds,
        "cancellations": run.cancellations,
        "left": run.left,
        "error": run.error,
    }


@bp.get("/orders/subtotal-mismatches")
@documented("Orders whose subtotal_price disagrees with their lines (line items less discounts), newest first; "
            "their points followed subtotal_price")
def list_subtotal_mismatches():
    return jsonify(orders=subtotal_mismatches(request_session(), g.shop.id))
