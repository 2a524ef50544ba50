"""What Shopify Flow posts to the app: action runs (`POST /flow/actions/adjust-points`, the
"Adjust points" action's runtime_url) and trigger lifecycle callbacks (`POST /flow/lifecycle`).

Flow signs both like a webhook (X-Shopify-Hmac-Sha256 of the raw body with the app's secret,
the previous secret accepted during a rotation), so they live beside the webhook intake and
share its check, made on the bytes before anything is parsed. A bad or missing signature is
401 and nothing is read or written. The work is in the domain (plugin/loyalty/flow_actions.py,
plugin/loyalty/events/flow_triggers.py); these routes verify, parse, call and answer.
"""
from flask import Blueprint, current_app, jsonify, request

from plugin.db import transaction
from plugin.loyalty.events.flow_triggers import record_usage, trigger_handle
from plugin.loyalty.flow_actions import ActionRefused, apply_adjust_points, record_refusal
from plugin.loyalty.shops import find_shop, is_shop_domain
from plugin.shopify.flow import NotFlowJSON, read_action_run, read_lifecycle
from webhooks.verification import is_authentic

bp = Blueprint("flow", __name__, url_prefix="/flow")


def _signed_body() -> bytes | None:
    body = request.get_data(cache=False)  # raises 413 past MAX_CONTENT_LENGTH
    config = current_app.config
    secrets = [config["SHOPIFY_API_SECRET"], config.get("SHOPIFY_API_SECRET_PREVIOUS")]
    return body if is_authentic(body, request.headers.get("X-Shopify-Hmac-Sha256"), secrets) else None


def _shop_id(session, domain: str) -> int | None:
    shop = find_shop(session, domain) if is_shop_domain(domain) else None
    return None if shop is None or shop.access_token is None else shop.id


@bp.post("/actions/adjust-points")
def adjust_points():
    """Apply one run of the action; Flow treats 200 as done and any other 4xx as a failure it
    does not retry, so a refusal names its reason for the workflow's run log."""
    body = _signed_body()
    if body is None:
        return jsonify(error="Flow signature is missing or wrong"), 401
    try:
        run = read_action_run(body)
    except NotFlowJSON as bad:
        return jsonify(error=str(bad)), 400
    try:
        with transaction() as session:
            shop_id = _shop_id(session, run.shop_domain)
            if shop_id is None:
                return jsonify(error="this shop has not installed the app"), 404
            status, answer = apply_adjust_points(session, shop_id, run)
    except ActionRefused as refused:  # raised out of the transaction: the run changed nothing
        with transaction() as session:
            status, answer = record_refusal(session, shop_id, run, refused)
    return jsonify(answer), status


@bp.post("/lifecycle")
def lifecycle():
    """Whether a shop now has an enabled workflow using one of the triggers: they fire only then."""
    body = _signed_body()
    if body is None:
        return jsonify(error="Flow signature is missing or wrong"), 401
    try:
        callback = read_lifecycle(body)
    except NotFlowJSON as bad:
        return jsonify(error=str(bad)), 400
    handle = trigger_handle(callback.trigger)
    if handle is None:
        return jsonify(status="ignored", reason="not one of this app's triggers"), 200
    with transaction() as session:
        shop_id = _shop_id(session, callback.shop_domain)
        if shop_id is None:
            return jsonify(error="this shop has not installed the app"), 404
        kept = record_usage(session, shop_id, handle, callback.enabled, callback.at)
    return jsonify(status="recorded" if kept else "older than what is recorded", trigger=handle,
                   enabled=callback.enabled), 200
