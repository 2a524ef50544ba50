"""`/api/event-subscriptions` and `/api/event-deliveries`: the merchant's endpoints for member
events, their deliveries, a sample event, and a retry (SPEC "Member events and where they go")."""
from flask import Blueprint, g, jsonify, request

from admin_ui.api import error, json_body
from admin_ui.auth import committing
from admin_ui.openapi import documented
from admin_ui.presenters import delivery_json, subscription_json
from plugin.db import request_session
from plugin.loyalty.events.delivery import attempts_of, owe_sample, recent_deliveries, retry_delivery
from plugin.loyalty.events.subscriptions import (
    create_subscription,
    find_subscription,
    parse_subscription,
    shop_subscriptions,
)
from plugin.loyalty.fields import InvalidFields, one_of
from plugin.models import DeliveryStatus

bp = Blueprint("event_subscriptions_api", __name__)  # under /api, authenticated there: admin_ui/api_root.py
ID = "int(max=9223372036854775807)"


@bp.get("/event-subscriptions")
@documented("The merchant's endpoints for member events")
def list_subscriptions():
    return jsonify(subscriptions=[subscription_json(s) for s in shop_subscriptions(request_session(), g.shop.id)])


@bp.post("/event-subscriptions")
@documented("Add an endpoint; its signing secret is in this answer only",
            body={"url": "string", "kinds": "strings"}, required=("url",),
            answers={201: "the subscription and its `secret`", 422: "a bad url or kind"})
@committing
def add_subscription():
    session = request_session()
    try:
        subscription, secret = create_subscription(session, g.shop.id, parse_subscription(json_body()))
    except InvalidFields as invalid:
        session.rollback()
        return error(422, "invalid subscription", fields=invalid.fields)
    # The only time the secret is readable: it is stored encrypted.
    return jsonify({**subscription_json(subscription), "secret": secret}), 201


@bp.delete(f"/event-subscriptions/<{ID}:subscription_id>")
@documented("Remove an endpoint", answers={200: "`{deleted}`", 404: "no such event subscription in this shop"})
@committing
def remove_subscription(subscription_id: int):
    session = request_session()
    subscription = find_subscription(session, g.shop.id, subscription_id)
    if subscription is None:
        return error(404, "no such event subscription in this shop")
    session.delete(subscription)
    session.flush()
    return jsonify(deleted=subscription_id)


@bp.get(f"/event-subscriptions/<{ID}:subscription_id>/deliveries")
@documented("The last deliveries to an endpoint, each with its kept attempts (`attempt_history`, newest first)",
            answers={200: "`{deliveries}`", 404: "no such event subscription in this shop"})
def list_deliveries(subscription_id: int):
    session = request_session()
    if find_subscription(session, g.shop.id, subscription_id) is None:
        return error(404, "no such event subscription in this shop")
    deliveries = recent_deliveries(session, g.shop.id, subscription_id)
    history = attempts_of(session, [d.id for d in deliveries])
    return jsonify(deliveries=[delivery_json(d, history=history[d.id]) for d in deliveries])


@bp.post(f"/event-subscriptions/<{ID}:subscription_id>/test")
@documented("Send a sample event to an endpoint",
            answers={202: "the delivery, on its way", 404: "no such event subscription in this shop"})
@committing
def send_sample(subscription_id: int):
    session = request_session()
    subscription = find_subscription(session, g.shop.id, subscription_id)
    if subscription is None:
        return error(404, "no such event subscription in this shop")
    return jsonify(delivery_json(owe_sample(session, subscription))), 202


@bp.get("/event-deliveries")
@documented("The shop's deliveries of a status (default failed)", query={"status": "string"},
            answers={200: "`{deliveries}`", 422: "an unknown status"})
def shop_deliveries():
    try:
        status = one_of(request.args.get("status", DeliveryStatus.FAILED.value), DeliveryStatus)
    except ValueError as problem:
        return error(422, "invalid query", fields={"status": str(problem)})
    return jsonify(deliveries=[delivery_json(d) for d in recent_deliveries(request_session(), g.shop.id,
                                                                            status=status, limit=100)])


@bp.post(f"/event-deliveries/<{ID}:delivery_id>/retry")
@documented("Deliver again now", answers={200: "the delivery", 404: "no such event delivery in this shop",
                                       409: "this delivery already succeeded"})
@committing
def retry(delivery_id: int):
    delivery = retry_delivery(request_session(), g.shop.id, delivery_id)
    if delivery is None:
        return error(404, "no such event delivery in this shop")
    if delivery.status is DeliveryStatus.SUCCEEDED:
        return error(409, "this delivery already succeeded")
    return jsonify(delivery_json(delivery))
