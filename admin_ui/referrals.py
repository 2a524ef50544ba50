"""`GET /api/referrals?status=` (the shop's referrals and their totals) and `GET /api/referrals/patterns`
(what looks like farming), for the Referrals page."""
from flask import Blueprint, g, jsonify, request

from admin_ui.api import error
from admin_ui.openapi import documented
from admin_ui.presenters import referral_json
from plugin.db import request_session, utcnow
from plugin.loyalty.fields import InvalidFields
from plugin.loyalty.referrals.listing import list_referrals, parse_status, referral_totals
from plugin.loyalty.referrals.patterns import suspicious_patterns

bp = Blueprint("referrals_api", __name__)  # under /api, authenticated there: admin_ui/api_root.py


@bp.get("/referrals")
@documented("Referrals, optionally of one status", query={"status": "string"},
            answers={200: "the referrals", 422: "an unknown status"})
def read_referrals():
    try:
        status = parse_status(request.args.get("status"))
    except InvalidFields as invalid:
        return error(422, "invalid query", fields=invalid.fields)
    rows = list_referrals(request_session(), g.shop.id, status)
    return jsonify(referrals=[referral_json(r, referrer) for r, referrer in rows],
                   totals=referral_totals(request_session(), g.shop.id))


@bp.get("/referrals/patterns")
@documented("Suspicious referral patterns of the last 90 days: many friends from one shopper's address, "
            "links whose codes go unused, friends' orders sharing a device, shipping address or card",
            answers={200: "the patterns, each with the referrals it involves"})
def read_referral_patterns():
    return jsonify(suspicious_patterns(request_session(), g.shop.id, utcnow()))
