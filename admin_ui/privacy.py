"""The admin API's privacy routes: the customer data exports merchants must hand over.

`customers/data_request` stores an export (plugin/loyalty/privacy.py); the merchant lists and reads
them here. Like every `/api` route, they run as the shop in the session token, so another
shop's export is a 404, never a 403 that would confirm it exists. Exports hold personal
data, so no cache may keep them.
"""
from flask import Blueprint, g, jsonify

from admin_ui.openapi import documented
from plugin.db import request_session
from plugin.html import private_no_store
from plugin.loyalty.privacy import get_data_request, list_data_requests

bp = Blueprint("privacy_api", __name__)  # under /api, authenticated there: admin_ui/api_root.py


bp.after_request(private_no_store)


@bp.get("/data-requests")
@documented("Customers' data requests (customers/data_request)")
def list_requests():
    found = list_data_requests(request_session(), g.shop.id)
    return jsonify(data_requests=[summary(request) for request in found])


@bp.get("/data-requests/<int(max=9223372036854775807):data_request_id>")
@documented("One data request with its export", answers={200: "the export", 404: "no such data request in this shop"})
def read_request(data_request_id: int):
    found = get_data_request(request_session(), g.shop.id, data_request_id)
    if found is None:
        return jsonify(error="no such data request in this shop"), 404
    return jsonify({**summary(found), "export": found.export})


def summary(request) -> dict:
    return {
        "id": request.id,
        "request_id": request.request_id,
        "customer_id": str(request.customer_id),
        "created_at": request.created_at.isoformat(),
    }
