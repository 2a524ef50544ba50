"""`GET /api/at-risk`: the win-back list (members at risk or lapsed who still hold points).

As JSON a page at a time, or with `format=csv` the whole list, streamed; the figures and their
definitions live in plugin/loyalty/churn/ (docs/at-risk.md).
"""
from flask import Blueprint, Response, g, jsonify, request, stream_with_context

from admin_ui.api import error
from admin_ui.openapi import documented
from plugin.db import request_session, utcnow
from plugin.loyalty.churn.recency import MIN_GAP_DAYS, ONE_ORDER_GAP_DAYS
from plugin.loyalty.churn.win_back import DIRECTIONS, PAGE_SIZE, SHOWN, SORTS, parse_asked, win_back_csv, win_back_page
from plugin.loyalty.fields import InvalidFields
from plugin.loyalty.shop_facts import business_zone

bp = Blueprint("at_risk_api", __name__)  # under /api, authenticated there: admin_ui/api_root.py


@bp.get("/at-risk")
@documented("The win-back list: members at risk or lapsed who hold points, sorted, 50 a page, or all as CSV",
            query={"status": {"enum": list(SHOWN)}, "sort": {"enum": list(SORTS)},
                   "direction": {"enum": list(DIRECTIONS)}, "page": "integer", "format": {"enum": ["json", "csv"]}},
            answers={200: "`{members, page, per_page, total, today, rules}` (or the CSV, streamed, with `format=csv`)",
                     422: "a bad status, sort, direction, page or format"})
def read_at_risk():
    try:
        asked = parse_asked(request.args)
    except InvalidFields as invalid:
        return error(422, "invalid query", fields=invalid.fields)
    if request.args.get("format", "json") not in ("json", "csv"):
        return error(422, "invalid query", fields={"format": "must be one of json, csv"})
    session, shop_id = request_session(), g.shop.id
    today = utcnow().astimezone(business_zone(g.shop.iana_timezone)).date()
    if request.args.get("format") == "csv":
        return Response(stream_with_context(win_back_csv(session, shop_id, today, asked)), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="at-risk-{today.isoformat()}.csv"'})
    members, total = win_back_page(session, shop_id, today, asked)
    return jsonify(members=members, page=asked.page, per_page=PAGE_SIZE, total=total, today=today.isoformat(),
                   rules={"min_gap_days": MIN_GAP_DAYS, "one_order_gap_days": ONE_ORDER_GAP_DAYS,
                          "at_risk_after": "1.5 × usual gap", "lapsed_after": "3 × usual gap"})
