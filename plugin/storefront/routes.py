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
about one shopper and must not sit in a shared cache. Shopper traffic never creates shops
or members; the only write is a logged-in shopper redeeming their own points, which a shop
that uninstalled the app refuses with a notice (the points stay).
"""
import logging
from urllib.parse import parse_qs

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request
from shopify_app import verify_app_proxy_req

from plugin.db import request_session
from plugin.html import html_response, private_no_store
from plugin.ids import parse_id
from plugin.loyalty.ledger.lifecycle import next_expiry
from plugin.loyalty.members import get_member, standing
from plugin.loyalty.rewards.catalog import list_rewards
from plugin.loyalty.rewards.redeeming import redeem
from plugin.loyalty.rewards.redemptions import RedemptionRefused, Refusal, recent_redemptions
from plugin.loyalty.shop_facts import business_zone
from plugin.loyalty.shops import find_shop, is_shop_domain
from plugin.loyalty.tiers.perk_rules import perk_given
from plugin.loyalty.tiers.views import storefront_tier
from plugin.models import Redemption
from plugin.storefront import page as storefront
from plugin.storefront.liquid import liquid_response

log = logging.getLogger(__name__)

# Templates live in a `storefront/` subfolder: Flask searches every blueprint's folder for a
# name, so a bare "page.html" could be shadowed by (or shadow) the admin panel's templates.
bp = Blueprint("proxy", __name__, url_prefix="/proxy", template_folder="templates")
PAGE_TEMPLATE = "storefront/page.html"
IN_THEME_TEMPLATE = "storefront/page_in_theme.html"

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
    if customer and parse_id(customer) is None:
        return _refuse("invalid_customer_id")
    g.proxy_shop = shop
    g.proxy_customer_id = parse_id(customer) if customer else None
    return None


def _refuse(reason: str):
    log.info("app proxy request refused: %s", reason)  # the reason only: parameters name a shopper
    return jsonify(error="app proxy request could not be verified"), 401


bp.after_request(private_no_store)


@bp.get("/member.json")
def member_json():
    """The logged-in shopper's points in this shop; a shopper with no points yet has 0.
    What the launcher asks on every page of the store: one statement (`standing`)."""
    if g.proxy_customer_id is None:
        return jsonify(logged_in=False)
    found = standing(request_session(), g.proxy_shop, g.proxy_customer_id)
    return jsonify(
        logged_in=True,
        customer_id=str(g.proxy_customer_id),
        balance=0 if found is None else found.balance,
        pending=0 if found is None else found.pending,
        lifetime_earned=0 if found is None else found.lifetime_earned,
        tier=None if found is None or found.tier_name is None else {
            "name": found.tier_name, "multiplier": str(found.tier_multiplier)},
    )


@bp.get("/")
def storefront_page():
    """The shopper's page: balance, rewards, a redeem button each, their codes."""
    session = request_session()
    shop = find_shop(session, g.proxy_shop)
    if shop is None:
        return html_response("<!doctype html><p>This store has no rewards program.</p>", 404)
    member = None if g.proxy_customer_id is None else get_member(session, shop.id, g.proxy_customer_id)
    # The store's proxy gets the page inside its theme; `/dev`, where no theme renders Liquid,
    # asks for the standalone document (`format=html`, a parameter the platform never sends).
    standalone = request.args.get("format") == "html"
    body = render_template(PAGE_TEMPLATE if standalone else IN_THEME_TEMPLATE, **storefront.page_context(
        prefix=storefront.safe_prefix(request.args.get("path_prefix")), program=shop.program,
        rewards=[r for r in list_rewards(session, shop.id) if r.active and r.id != perk_given(session, member)],
        member=member,
        customer_id=g.proxy_customer_id,
        redemptions=[] if member is None else recent_redemptions(session, member.id),
        notice=request.args.get("notice"),
        csrf=None if g.proxy_customer_id is None else storefront.csrf_token(shop.domain, g.proxy_customer_id),
        next_expiry=None if member is None else next_expiry(session, shop.program, member,
                                                            business_zone(shop.iana_timezone)),
        shop_domain=shop.domain, currency=shop.currency,
    ), tier=None if g.proxy_customer_id is None else storefront_tier(session, shop.id, member))
    return html_response(body) if standalone else liquid_response(body)


@bp.post("/redemptions")
def storefront_redeem():
    """A redeem button: take the points, make the code, then show the page again."""
    prefix = storefront.safe_prefix(request.args.get("path_prefix"))
    if g.proxy_customer_id is None:
        return redirect(f"/account/login?return_url={prefix}", 303)
    if not storefront.csrf_valid(request.form.get("csrf"), g.proxy_shop, g.proxy_customer_id):
        return redirect(f"{prefix}?notice=expired-form", 303)
    shop = find_shop(request_session(), g.proxy_shop)
    if shop is None:
        return redirect(f"{prefix}?notice=insufficient", 303)
    try:
        redeemed = redeem(request_session(), shop, g.proxy_customer_id, request.form.get("reward_id", ""))
    except RedemptionRefused as refused:
        return redirect(f"{prefix}?notice={REFUSAL_NOTICE[refused.reason]}", 303)
    request_session().expire_all()  # the outcome was committed by other transactions
    made = request_session().get(Redemption, redeemed.redemption_id)
    return redirect(f"{prefix}?notice={storefront.redeemed_notice(made)}", 303)


# The storefront notice for a refusal: the shopper sees why, never the merchant's wording.
REFUSAL_NOTICE = {Refusal.NOT_INSTALLED: "closed", Refusal.UNAVAILABLE: "unavailable",
                  Refusal.NO_MEMBER: "insufficient", Refusal.NO_REWARD: "insufficient",
                  Refusal.NEGATIVE_BALANCE: "insufficient", Refusal.INSUFFICIENT: "insufficient"}
