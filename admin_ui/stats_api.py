"""`GET /api/stats?from=&to=`: the dashboard's figures and charts for the token's shop.

The figures and their definitions live in plugin/loyalty/analytics/dashboard.py; the charts are drawn
here, beside the dashboard that shows them, with admin_ui/charts.py.
"""
from flask import Blueprint, g, jsonify, request

from admin_ui.api import error
from admin_ui.charts import Series, line_chart
from admin_ui.openapi import documented
from plugin.db import request_session, utcnow
from plugin.loyalty.analytics.dashboard import Figures, compute, figures_json, parse_period
from plugin.loyalty.fields import InvalidFields
from plugin.loyalty.tiers.views import members_per_tier

bp = Blueprint("stats_api", __name__)  # under /api, authenticated there: admin_ui/api_root.py


@bp.get("/stats")
@documented("The dashboard's figures and charts for a period (default: the last 30 days)",
            query={"from": "date", "to": "date"}, answers={200: "figures, series and charts", 422: "a bad period"})
def read_stats():
    try:
        period = parse_period(request.args.get("from"), request.args.get("to"), today=utcnow().date())
    except InvalidFields as invalid:
        return error(422, "invalid period", fields=invalid.fields)
    figures = compute(request_session(), g.shop.id, period)
    return jsonify({**figures_json(figures, g.shop.currency), "charts": dashboard_charts(figures),
                    "members_per_tier": members_per_tier(request_session(), g.shop.id)})


def dashboard_charts(figures: Figures) -> dict:
    """The two charts of the dashboard, as SVG text ."""
    days, span = list(figures.days), f"{figures.period.first.isoformat()} to {figures.period.last.isoformat()}"
    issued = [day.points_issued for day in figures.days.values()]
    redeemed = [day.points_redeemed for day in figures.days.values()]
    running, members = figures.members_before, []
    for day in figures.days.values():
        running += day.new_members
        members.append(running)
    return {
        "points": line_chart(
            "loyalty-points-chart", "Points issued and redeemed per day",
            f"From {span}: {sum(issued):,} points issued and {sum(redeemed):,} redeemed.",
            days, [Series("Issued", issued), Series("Redeemed", redeemed)], "Points"),
        "members": line_chart(
            "loyalty-members-chart", "Members at the end of each day",
            f"From {span}: {members[0]:,} members on the first day, {members[-1]:,} on the last.",
            days, [Series("Members", members)], "Members"),
    }

