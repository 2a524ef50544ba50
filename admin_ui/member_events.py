"""`GET /api/member-events?kind=&customer_id=&page=`: the shop's member events, newest first."""
from flask import Blueprint, g, jsonify, request

from admin_ui.api import error
from admin_ui.openapi import documented
from plugin.db import request_session
from plugin.loyalty.events.member_events import PAGE_SIZE, event_json, list_events, parse_filter
from plugin.loyalty.fields import InvalidFields

bp = Blueprint("member_events_api", __name__)  # under /api, authenticated there: admin_ui/api_root.py


@bp.get("/member-events")
@documented("Member events (tier changes, expiries, referrals...), newest first",
            query={"kind": "string", "customer_id": "string", "page": "integer"},
            answers={200: "the events", 422: "a bad filter"})
def read_member_events():
    try:
        chosen = parse_filter(request.args.get("kind"), request.args.get("customer_id"), request.args.get("page"))
    except InvalidFields as invalid:
        return error(422, "invalid query", fields=invalid.fields)
    events, total = list_events(request_session(), g.shop.id, chosen)
    return jsonify(events=[event_json(e) for e in events], page=chosen.page, per_page=PAGE_SIZE, total=total)
