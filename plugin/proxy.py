"""The storefront's app proxy (`/proxy/...`): shopper-facing routes, signature-checked.

The platform forwards `https://<shop>/apps/loyalty/...` here and appends `shop`,
`logged_in_customer_id`, `path_prefix`, `timestamp` and `signature` (SHOPIFY.md 4).
Every request is checked before any route runs by Shopify's own `shopifyapp` package
(`verify_app_proxy_req`): hex HMAC-SHA256 of the sorted parameters, the previous secret
accepted during a rotation, a timestamp at most 90 s off either way, one `shop` only. On
top of it this guard refuses repeated single-value parameters and a `shop` that is not a
`*.myshopify.com` domain, then sets `g.proxy_shop` and `g.proxy_customer_id` (None when no
shopper is logged in: the parameter is absent or empty).

A refused request gets 401 with a JSON error (`{"error": ...}`), like the rest of the app's
JSON routes; it does not say which check failed. Every answer is `private, no-store`: it is
about one shopper and must not sit in a shared cache. Routes here only read: shopper traffic
never creates shops or members.
"""
import logging
from urllib.parse import parse_qs

from flask import Blueprint, current_app, g, jsonify, request
from shopify_app import verify_app_proxy_req

from plugin.db import request_session
from plugin.members import get_member
from plugin.shops import find_shop, is_shop_domain

log = logging.getLogger(__name__)

bp = Blueprint("proxy", __name__, url_prefix="/proxy")

# A second value of these would leave room to sign one and act on another.
SINGLE_VALUED = ("shop", "timestamp", "signature", "logged_in_customer_id")


@bp.before_request
def verify_proxy_request():
    """Set `g.proxy_shop` and `g.proxy_customer_id` from a verified request, or answer 401."""
    query = request.query_string.decode("utf-8", errors="replace")
    result = verify_app_proxy_req(
        {"method": request.method, "headers": {}, "url": f"{request.base_url}?{query}", "body": ""},
        {"client_id": current_app.config["SHOPIFY_API_KEY"],
         "client_secret": current_app.config["SHOPIFY_API_SECRET"],
         "old_client_secret": current_app.config.get("SHOPIFY_API_SECRET_PREVIOUS")},
    )
    if not result.ok:
        return _refuse(result.log.code)
    # Read the values the library verified, decoded the same way (not Werkzeug's parse).
    params = parse_qs(query, keep_blank_values=True)
    if any(len(params.get(name, [])) > 1 for name in SINGLE_VALUED):
        return _refuse("repeated_parameter")
    shop = params.get("shop", [""])[0]
    customer = params.get("logged_in_customer_id", [""])[0]
    if not is_shop_domain(shop):
        return _refuse("invalid_shop")
    if customer and not (customer.isascii() and customer.isdigit()):
        return _refuse("invalid_customer_id")
    g.proxy_shop = shop
    g.proxy_customer_id = int(customer) if customer else None
    return None


def _refuse(reason: str):
    log.info("app proxy request refused: %s", reason)  # the reason only: parameters name a shopper
    return jsonify(error="app proxy request could not be verified"), 401


@bp.after_request
def not_cached(response):
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/member.json")
def member_json():
    """The logged-in shopper's points in this shop; a shopper with no points yet has 0."""
    if g.proxy_customer_id is None:
        return jsonify(logged_in=False)
    shop = find_shop(request_session(), g.proxy_shop)
    member = None if shop is None else get_member(request_session(), shop.id, g.proxy_customer_id)
    return jsonify(
        logged_in=True,
        customer_id=str(g.proxy_customer_id),
        balance=0 if member is None else member.balance,
        lifetime_earned=0 if member is None else member.lifetime_earned,
    )
