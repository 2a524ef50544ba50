"""The theme's JSON through the app proxy: `GET /proxy/panel.json` (the launcher's panel and
the blocks), `GET /proxy/earn.json` (a product page's "earn N points") and
`POST /proxy/redemptions.json` (redeem in place, from the panel).

Checked by the same app proxy guard as the page (plugin/storefront/routes.py), so the
shopper is only ever the signed `logged_in_customer_id`. Redeeming takes the page's CSRF
token (`csrf` of panel.json) in the `X-Loyalty-Csrf` header and a JSON body: a foreign page
can neither read panel.json (same-origin) nor send a JSON body cross-site without a CORS
preflight the store never grants, so it cannot make a shopper spend points.
"""
from decimal import Decimal

from flask import Blueprint, g, jsonify, request

from plugin.db import request_session, utcnow
from plugin.html import private_no_store
from plugin.loyalty.members import get_member
from plugin.loyalty.rewards.redeeming import redeem as redeem_reward
from plugin.loyalty.rewards.redemptions import RedemptionRefused, Refusal
from plugin.loyalty.rules.estimate import product_points
from plugin.loyalty.shops import find_shop
from plugin.loyalty.tiers.views import member_tiers
from plugin.models import RedemptionStatus
from plugin.storefront import page as storefront
from plugin.storefront.panel import panel_json
from plugin.storefront.product_query import InvalidProduct, parse_product
from plugin.storefront.routes import REFUSAL_NOTICE, verify_proxy_request

bp = Blueprint("proxy_panel", __name__, url_prefix="/proxy")
bp.before_request(verify_proxy_request)
bp.after_request(private_no_store)

# What a redeem's outcome answers: a code made (201), being made (202), or refunded (503).
ISSUED_STATUS = {RedemptionStatus.ISSUED: 201, RedemptionStatus.PENDING: 202, RedemptionStatus.FAILED: 503}
# A refusal's HTTP status (as the panel's API answers it); the panel's words come from `notice`.
REFUSAL_STATUS = {Refusal.NO_MEMBER: 404, Refusal.NO_REWARD: 404, Refusal.UNAVAILABLE: 422,
                  Refusal.NOT_INSTALLED: 409, Refusal.NEGATIVE_BALANCE: 409, Refusal.INSUFFICIENT: 409}


@bp.get("/panel.json")
def panel():
    shop = find_shop(request_session(), g.proxy_shop)
    if shop is None:
        return jsonify(error="this store has no rewards program"), 404
    prefix = storefront.safe_prefix(request.args.get("path_prefix"))
    return jsonify(panel_json(request_session(), shop, g.proxy_customer_id, prefix))


@bp.get("/earn.json")
def earn():
    """What one unit of the product earns this shopper: `{"points", "tier_multiplier"}`."""
    shop = find_shop(request_session(), g.proxy_shop)
    if shop is None:
        return jsonify(error="this store has no rewards program"), 404
    try:
        product, price = parse_product(request.args)
    except InvalidProduct as invalid:
        return jsonify(error="invalid product", fields=invalid.fields), 422
    multiplier = _tier_multiplier(shop.id)
    points = product_points(request_session(), shop.program, product, price, utcnow(), multiplier or Decimal(1))
    return jsonify(points=points, tier_multiplier=None if multiplier is None else f"{multiplier:f}")


def _tier_multiplier(shop_id: int) -> Decimal | None:
    member = None if g.proxy_customer_id is None else get_member(request_session(), shop_id, g.proxy_customer_id)
    tier = None if member is None else member_tiers(request_session(), shop_id, [member])[member.id]["tier"]
    return None if tier is None else Decimal(tier["multiplier"])


@bp.post("/redemptions.json")
def redeem():
    """Redeem `{"reward_id"}`; answers the panel as it is after, with a `notice` key."""
    if g.proxy_customer_id is None:
        return jsonify(error="sign in to redeem", notice="signed-out"), 401
    token = request.headers.get("X-Loyalty-Csrf")
    if not request.is_json or not storefront.csrf_valid(token, g.proxy_shop, g.proxy_customer_id):
        return jsonify(error="the panel was open too long; reload it", notice="expired-form"), 403
    body = request.get_json(silent=True)
    session = request_session()
    shop = find_shop(session, g.proxy_shop)
    if shop is None:
        return jsonify(error="this store has no rewards program", notice="insufficient"), 404
    try:
        redeemed = redeem_reward(session, shop, g.proxy_customer_id,
                                 body.get("reward_id", "") if isinstance(body, dict) else "")
    except RedemptionRefused as refused:
        return jsonify(error=str(refused), notice=REFUSAL_NOTICE[refused.reason]), REFUSAL_STATUS[refused.reason]
    session.expire_all()  # rows read before the redemption's commits (the member's balance) are stale
    prefix = storefront.safe_prefix(request.args.get("path_prefix"))
    panel = panel_json(session, shop, g.proxy_customer_id, prefix)
    return jsonify(notice=redeemed.status.value, code=redeemed.code, panel=panel), \
        ISSUED_STATUS.get(redeemed.status, 201)
