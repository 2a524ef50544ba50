"""The embedded merchant panel: the pages the store admin loads in its iframe.

The admin opens each page with `shop`, `host` and an `id_token` (a session token). A valid
token proves the shop; if we hold no usable offline token for it yet (first open,
reinstall, expired refresh token) we get one by token exchange before rendering. Without
an id token, a correctly signed load from a shop that never installed is sent to the OAuth
install; anything else gets the 401 that tells App Bridge to retry with a fresh token.

The pages are shells that hold no shop data: each is a Jinja template plus one small
script (admin_ui/static) that asks `/api` for its data with the session token and writes
it with DOM text APIs. So the API's shop scoping is the only way to data, whatever ids a
URL holds, and a name holding markup stays text. The script gets its tokens from App
Bridge when the CDN script loaded; otherwise (tests, no CDN) it uses the id token the page
was opened with, which is put in the page only after it was verified here.
"""
import re
from functools import wraps
from urllib.parse import urlencode

from flask import Blueprint, current_app, g, redirect, render_template, request

from plugin.db import request_session, transaction
from plugin.dev_shop import is_dev_shop
from plugin.html import html_response, message_page
from plugin.loyalty.shops import find_shop, get_or_create_shop, is_shop_domain
from plugin.shopify.grants import PlatformAuthError, exchange_id_token
from plugin.shopify.query_hmac import is_signed_by_platform
from plugin.shopify.session_tokens import InvalidSessionToken, shop_from_header
from plugin.shopify.tokens import has_usable_token, store_grant

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/panel-assets")
APP_BRIDGE = "https://cdn.shopify.com/shopifycloud/app-bridge.js"
# The admin's `host` is base64url of the admin's address; anything else is dropped, not echoed.
HOST_PARAM = re.compile(r"^[A-Za-z0-9_=-]{1,500}$")
# (section, path, label): the panel's navigation, in the order the merchant sees it.
NAV = (
    ("dashboard", "/", "Dashboard"),
    ("liability", "/liability", "Liability"),
    ("performance", "/performance", "Performance"),
    ("members", "/members", "Members"),
    ("at_risk", "/at-risk", "At risk"),
    ("rewards", "/rewards", "Rewards"),
    ("earning_rules", "/earning-rules", "Earning rules"),
    ("referrals", "/referrals", "Referrals"),
    ("settings", "/settings", "Settings"),
    ("integrations", "/integrations", "Integrations"),
    ("imports", "/imports", "Imports"),
    ("api_keys", "/keys", "API keys"),
    ("operations", "/operations", "Operations"),
)


def panel_page(view):
    """Serve the view only for a verified id token: sets `g.shop` and `g.id_token`."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        refused = _authenticate()
        return refused if refused is not None else view(*args, **kwargs)

    return wrapper


@bp.get("/")
@panel_page
def embedded_entry():
    return _render("dashboard", "Dashboard")


@bp.get("/liability")
@panel_page
def liability():
    return _render("liability", "Points liability")


@bp.get("/performance")
@panel_page
def performance():
    return _render("performance", "Program performance")


@bp.get("/settings")
@panel_page
def settings():
    return _render("settings", "Program settings")


@bp.get("/members")
@panel_page
def members():
    return _render("members", "Members")


@bp.get("/members/<customer_id>")
@panel_page
def member(customer_id: str):
    # The id only goes to the page's script, which asks the shop-scoped API for it.
    return _render("member", "Member", section="members", customer_id=customer_id)


@bp.get("/at-risk")
@panel_page
def at_risk():
    return _render("at_risk", "Members at risk")


@bp.get("/rewards")
@panel_page
def rewards():
    return _render("rewards", "Rewards")


@bp.get("/earning-rules")
@panel_page
def earning_rules():
    return _render("earning_rules", "Earning rules")


@bp.get("/referrals")
@panel_page
def referrals():
    return _render("referrals", "Referrals")
@bp.get("/integrations")
@panel_page
def integrations():
    return _render("integrations", "Integrations")


@bp.get("/imports")
@panel_page
def imports():
    return _render("imports", "Imports")


@bp.get("/keys")
@panel_page
def api_keys():
    rate, burst = current_app.config["API_KEY_RATE"]
    return _render("api_keys", "API keys", rate_text=f"{rate:g} requests a second, with bursts of up to {burst}")


@bp.get("/operations")
@panel_page
def operations():
    return _render("operations", "Operations")


def _authenticate():
    """None once the request's id token is verified and the shop can be served; else the answer."""
    claimed = request.args.get("shop", "")
    framing = claimed if is_shop_domain(claimed) else None
    id_token = request.args.get("id_token")
    if not id_token:
        return _without_id_token(claimed, framing)
    config = current_app.config
    try:
        shop_domain = shop_from_header(f"Bearer {id_token}", config["SHOPIFY_API_KEY"], config["SHOPIFY_API_SECRET"])
    except InvalidSessionToken as error:
        return _unauthorized(str(error), framing)
    shop = find_shop(request_session(), shop_domain)
    if shop is None or not has_usable_token(shop):
        try:
            grant = exchange_id_token(shop_domain, id_token)
        except PlatformAuthError as error:
            return _unauthorized(f"the store did not grant access: {error}", shop_domain)
        # A GET's request session only reads; the platform call is made before the write lock.
        with transaction() as session:
            shop = get_or_create_shop(session, shop_domain)
            store_grant(shop, grant)
    g.shop, g.id_token = shop, id_token
    return None


def _without_id_token(claimed: str, framing: str | None):
    secrets = [current_app.config["SHOPIFY_API_SECRET"], current_app.config.get("SHOPIFY_API_SECRET_PREVIOUS")]
    if framing and is_signed_by_platform(request.args, secrets):
        known = find_shop(request_session(), claimed)
        if known is None or not has_usable_token(known):
            return redirect("/auth/install?" + urlencode(request.args))
    return _unauthorized("open the app from the store admin", framing)


def _unauthorized(message: str, framing: str | None):
    response = message_page("Session expired", f"Reload the page from the store admin ({message}).", 401, framing)
    response.headers["X-Shopify-Retry-Invalid-Session-Request"] = "1"
    return response


def _app_bridge(domain: str) -> str | None:
    """App Bridge only works inside the real admin; the /dev page (development) is not one,
    so its panel runs on the id token it was opened with, as the pages already can."""
    return None if is_dev_shop(domain) else APP_BRIDGE


def _render(page: str, title: str, section: str | None = None, **context):
    domain = g.shop.domain
    host = request.args.get("host", "")
    host = host if HOST_PARAM.fullmatch(host) else ""
    # Links between pages carry the admin's parameters; the script adds a fresh id token on click.
    carried = {"shop": domain, **({"host": host} if host else {}), "embedded": "1"}
    body = render_template(
        f"{page}.html", page=page, title=title, section=section or page, nav=NAV, query=urlencode(carried),
        api_key=current_app.config["SHOPIFY_API_KEY"], app_bridge=_app_bridge(domain), id_token=g.id_token,
        shop_domain=domain, store_handle=domain.removesuffix(".myshopify.com"), host=host,
        currency=g.shop.currency or "", **context)
    return html_response(body, 200, domain)
