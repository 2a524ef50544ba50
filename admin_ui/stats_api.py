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
from plugin.loyalty.shop_facts import business_zone
from plugin.loyalty.tiers.views import members_per_tier

bp = Blueprint("stats_api", __name__)  # under /api, authenticated there: admin_ui/api_root.py


@bp.get("/stats")
@documented("The dashboard's figures and charts for a period (default: the last 30 days)",
            query={"from": "date", "to": "date"}, answers={200: "figures, series and charts", 422: "a bad period"})
def read_stats():
    zone = business_zone(g.shop.iana_timezone)
    try:
        period = parse_period(request.args.get("from"), request.args.get("to"), today=utcnow().astimezone(zone).date())
    except InvalidFields as invalid:
        return error(422, "invalid period", fields=invalid.fields)
    figures = compute(request_session(), g.shop.id, period, zone)
    return jsonify({**figures_json(figures, g.shop.currency), "zone": getattr(zone, "key", "UTC"),
                    "charts": dashboard_charts(figures, f"Day ({getattr(zone, 'key', 'UTC')})"),
                    "members_per_tier": members_per_tier(request_session(), g.shop.id)})


def dashboard_charts(figures: Figures, x_label: str = "Day (UTC)") -> dict:
    """The three charts of the dashboard, as SVG text; days are the shop's (`x_label` says which zone)."""
    days, span = list(figures.days), f"{figures.period.first.isoformat()} to {figures.period.last.isoformat()}"
    issued = [day.points_issued for day in figures.days.values()]
    redeemed = [day.points_redeemed for day in figures.days.values()]
    orders = [day.orders for day in figures.days.values()]
    running, members = figures.members_before, []
    for day in figures.days.values():
        running += day.new_members
        members.append(running)
    return {
        "points": line_chart(
            "loyalty-points-chart", "Points issued and redeemed per day",
            f"From {span}: {sum(issued):,} points issued and {sum(redeemed):,} redeemed.",
            days, [Series("Issued", issued), Series("Redeemed", redeemed)], "Points", x_label),
        "members": line_chart(
            "loyalty-members-chart", "Members at the end of each day",
            f"From {span}: {members[0]:,} members on the first day, {members[-1]:,} on the last.",
            days, [Series("Members", members)], "Members", x_label),
        # By each order's own day, so orders sent in one go but placed over weeks draw as weeks.
        "orders": line_chart(
            "loyalty-orders-chart", "Paid orders per day",
            f"From {span}: {sum(orders):,} paid orders, counted on the day each was placed.",
            days, [Series("Orders", orders)], "Orders", x_label),
    }

