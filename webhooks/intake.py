"""`POST /webhooks`: verify, store, answer, then ask for a drain (at most once per short
window per process: webhooks/jobs.py).

The answer is 200 only once the event row is committed, so an acknowledged webhook can
always be processed later, whatever happens to Redis or the workers. The write is one
INSERT through the engine (no ORM), because this endpoint must answer within the
platform's 5 seconds under bursts.
"""
from functools import cache

from flask import Blueprint, current_app, jsonify, request

from plugin.db import dialect_insert, engine, utcnow
from plugin.loyalty.shops import is_shop_domain
from plugin.models import WebhookEvent
from webhooks.handlers import HANDLERS
from webhooks.jobs import signal_drain
from webhooks.verification import is_authentic

bp = Blueprint("webhooks", __name__)
EVENTS = WebhookEvent.__table__


@bp.post("/webhooks")
def receive():
    body = request.get_data(cache=False)  # raises 413 past MAX_CONTENT_LENGTH
    secrets = [current_app.config["SHOPIFY_API_SECRET"], current_app.config.get("SHOPIFY_API_SECRET_PREVIOUS")]
    if not is_authentic(body, request.headers.get("X-Shopify-Hmac-Sha256"), secrets):
        return jsonify(error="webhook signature is missing or wrong"), 401
    topic = request.headers.get("X-Shopify-Topic", "")
    shop = request.headers.get("X-Shopify-Shop-Domain", "").strip().lower()
    webhook_id = request.headers.get("X-Shopify-Webhook-Id", "").strip()
    if not is_shop_domain(shop):
        return jsonify(error="X-Shopify-Shop-Domain must be a *.myshopify.com domain"), 400
    if not webhook_id or len(webhook_id) > 255:
        return jsonify(error="X-Shopify-Webhook-Id is required"), 400
    if topic not in HANDLERS:
        return jsonify(status="ignored", topic=topic[:64]), 200
    event_id = store_event(shop, topic, webhook_id, body)
    if event_id is None:
        return _answer(DUPLICATE)
    signal_drain(str(event_id))
    return _answer(ACCEPTED)


# The two answers of a stored delivery, serialised once: jsonify costs as much CPU per
# request as the Redis signal did.
ACCEPTED = b'{"status":"accepted"}\n'
DUPLICATE = b'{"status":"duplicate"}\n'


def _answer(body: bytes):
    return current_app.response_class(body, status=200, mimetype="application/json")


def store_event(shop: str, topic: str, webhook_id: str, body: bytes) -> int | None:
    """Commit the delivery; None if this webhook id was already stored for the shop.

    One INSERT in autocommit mode: it is its own transaction and returns only once durable,
    without the BEGIN and COMMIT round trips of an explicit transaction.
    """
    headers = request.headers
    now = utcnow()
    with engine().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        row = connection.execute(_insert_event(connection.dialect.name), dict(
            shop_domain=shop, topic=topic, webhook_id=webhook_id,
            event_id=(headers.get("X-Shopify-Event-Id") or "")[:255] or None,
            api_version=(headers.get("X-Shopify-API-Version") or "")[:16] or None,
            triggered_at=(headers.get("X-Shopify-Triggered-At") or "")[:64] or None,
            # PostgreSQL text cannot hold NUL; such a body is not valid JSON anyway and fails later.
            payload=body.decode("utf-8", errors="replace").replace("\x00", "\ufffd"),
            received_at=now, next_attempt_at=now,
        )).first()
    return None if row is None else row.id


@cache
def _insert_event(dialect: str):
    # Built once: constructing the statement costs more CPU than the rest of the request.
    return dialect_insert(dialect)(EVENTS).on_conflict_do_nothing().returning(EVENTS.c.id)
