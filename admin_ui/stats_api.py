"""`GET /api/stats?from=&to=`: the dashboard's figures and charts for the token's shop.

The figures and their definitions live in plugin/loyalty/stats.py, the charts in admin_ui/charts.py.
"""
from flask import Blueprint, g, jsonify, request

from admin_ui.api import error
from plugin.db import request_session, utcnow
from plugin.loyalty.programs import InvalidFields
from plugin.loyalty.stats import dashboard, parse_period

bp = Blueprint("stats_api", __name__)  # under /api, authenticated there: admin_ui/api_root.py


@bp.get("/stats")
def read_stats():
    try:
        period = parse_period(request.args.get("from"), request.args.get("to"), today=utcnow().date())
    except InvalidFields as invalid:
        return error(422, "invalid period", fields=invalid.fields)
    return jsonify(dashboard(request_session(), g.shop.id, g.shop.currency, period))
