"""`GET /api/reports/liability?from=&to=[&by=day|month][&format=csv]`: the points liability statement.

The rows and their definitions live in plugin/loyalty/analytics/liability.py; here they become
JSON (with the chart the Liability page shows) or CSV with the SPEC's header.
"""
import csv
import io
from datetime import date

from flask import Blueprint, Response, g, jsonify, request

from admin_ui.api import error
from admin_ui.charts import Series, line_chart
from admin_ui.openapi import documented
from plugin.db import request_session, utcnow
from plugin.loyalty.analytics.liability import closing_value, daily_rows, money_per_point, monthly_rows, row_fields
from plugin.loyalty.analytics.liability_period import parse_asked
from plugin.loyalty.fields import InvalidFields
from plugin.loyalty.shop_facts import business_zone

bp = Blueprint("liability_api", __name__)  # under /api, authenticated there: admin_ui/api_root.py
HEADER = [*row_fields(), "closing_value"]


@bp.get("/reports/liability")
@documented("The points liability statement per day or month, as JSON or CSV",
            query={"from": "date", "to": "date", "by": {"enum": ["day", "month"]},
                   "format": {"enum": ["json", "csv"]}},
            answers={200: "the statement (JSON, or CSV with `format=csv`)", 422: "a bad period, by or format"})
def read_liability():
    zone = business_zone(g.shop.iana_timezone)
    try:
        asked = parse_asked(request.args, today=utcnow().astimezone(zone).date())
    except InvalidFields as invalid:
        return error(422, "invalid statement", fields=invalid.fields)
    session = request_session()
    rows = daily_rows(session, g.shop.id, zone, asked.first, asked.last)
    rows = monthly_rows(rows) if asked.by == "month" else rows
    rate = money_per_point(session, g.shop.id)
    table = [_row_json(row, rate) for row in rows]
    if asked.format == "csv":
        return _csv(table, f"liability-{asked.first.isoformat()}-{asked.last.isoformat()}.csv")
    return jsonify({"from": asked.first.isoformat(), "to": asked.last.isoformat(), "by": asked.by,
                    "zone": getattr(zone, "key", "UTC"), "currency": g.shop.currency,
                    "best_reward": None if rate is None else {"value": str(rate[0]), "points_cost": rate[1]},
                    "rows": table, "chart": _chart(table, asked.by)})


def _row_json(row, rate) -> dict:
    value = closing_value(row, rate)
    return {**{name: getattr(row, name) for name in HEADER[1:-1]}, "date": row.date.isoformat(),
            "closing_value": None if value is None else str(value)}


def _csv(table: list[dict], filename: str) -> Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({**row, "closing_value": row["closing_value"] or ""} for row in table)
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _chart(table: list[dict], by: str) -> str:
    days = [date.fromisoformat(row["date"]) for row in table]
    closing = [row["closing"] for row in table]
    pending = [row["pending"] for row in table]
    per = "day" if by == "day" else "month"
    return line_chart(
        "loyalty-liability-chart", f"Points owed at the end of each {per}",
        f"From {table[0]['date']}: {closing[0]:,} points owed at the end of the first {per}, "
        f"{closing[-1]:,} at the end of the last, {pending[-1]:,} of them pending.",
        days, [Series("Owed", closing), Series("Pending", pending)], "Points",
        x_label="Day (shop's zone)" if by == "day" else "Month (first day, shop's zone)")
