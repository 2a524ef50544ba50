"""`GET /api/reports/performance` and `GET /api/reports/cohorts`: does the program pay?

The figures and their definitions live in plugin/loyalty/analytics/performance.py and
cohorts.py; the period is days of the shop's zone, as every order figure is.
"""
from flask import Blueprint, g, jsonify, request

from admin_ui.api import error
from admin_ui.openapi import documented
from plugin.db import request_session, utcnow
from plugin.loyalty.analytics import cohorts, performance
from plugin.loyalty.analytics.dashboard import parse_period
from plugin.loyalty.fields import InvalidFields
from plugin.loyalty.shop_facts import business_zone

bp = Blueprint("performance_api", __name__)  # under /api, authenticated there: admin_ui/api_root.py


@bp.get("/reports/performance")
@documented("Program performance: members against other customers, over days of the shop's zone "
            "(default: the last 30 days)", query={"from": "date", "to": "date"},
            answers={200: "the figures of the period", 422: "a bad period"})
def read_performance():
    zone = business_zone(g.shop.iana_timezone)
    today = utcnow().astimezone(zone).date()
    try:
        period = parse_period(request.args.get("from"), request.args.get("to"), today=today)
    except InvalidFields as invalid:
        return error(422, "invalid period", fields=invalid.fields)
    figures = performance.compute(request_session(), g.shop.id, zone, period.first, period.last, today)
    return jsonify(performance.performance_json(figures, g.shop.currency))


@bp.get("/reports/cohorts")
@documented("Members by the month they joined and the share who ordered in each later month",
            query={"months": "integer"}, answers={200: "the cohorts, oldest first", 422: "a bad months"})
def read_cohorts():
    zone = business_zone(g.shop.iana_timezone)
    try:
        months = cohorts.parse_months(request.args.get("months"))
    except InvalidFields as invalid:
        return error(422, "invalid cohorts", fields=invalid.fields)
    found = cohorts.compute(request_session(), g.shop.id, zone, utcnow().astimezone(zone).date(), months)
    return jsonify(cohorts.cohorts_json(found, zone))
