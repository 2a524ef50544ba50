"""The embedded entry (`GET /`): the page the store admin loads in its iframe.

The admin sends `shop`, `host` and an `id_token` (a session token). A valid token proves
the shop; if we hold no usable offline token for it yet (first open, reinstall, expired
refresh token) we get one by token exchange before rendering. Without an id token, a
correctly signed load from a shop that never installed is sent to the OAuth install.
"""
from html import escape
from urllib.parse import urlencode

from flask import Blueprint, current_app, redirect, request

from plugin.db import request_session
from plugin.html import html_response, message_page
from plugin.platform_auth import PlatformAuthError, exchange_id_token
from plugin.query_hmac import is_signed_by_platform
from plugin.session_tokens import InvalidSessionToken, shop_from_header
from plugin.shops import find_shop, get_or_create_shop, is_shop_domain
from plugin.tokens import has_usable_token, store_grant

bp = Blueprint("pages", __name__)
APP_BRIDGE = "https://cdn.shopify.com/shopifycloud/app-bridge.js"


@bp.get("/")
def embedded_entry():
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
    session = request_session()
    shop = get_or_create_shop(session, shop_domain)
    if not has_usable_token(shop):
        try:
            store_grant(shop, exchange_id_token(shop_domain, id_token))
        except PlatformAuthError as error:
            session.rollback()
            return _unauthorized(f"the store did not grant access: {error}", shop_domain)
    session.commit()
    return html_response(_shell(shop), 200, shop_domain)


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


def _shell(shop) -> str:
    """The panel's frame. The settings, members and rewards pages are built on it later."""
    api_key = escape(current_app.config["SHOPIFY_API_KEY"])
    program = shop.program
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f'<meta name="shopify-api-key" content="{api_key}"><script src="{APP_BRIDGE}"></script>'
        "<title>Loyalty</title></head><body style=\"font-family:system-ui,sans-serif;margin:2rem\">"
        f"<h1>Loyalty</h1><p>Connected to {escape(shop.domain)}.</p>"
        f"<p>Orders earn {escape(str(program.points_per_currency_unit))} point(s) per unit of currency; "
        f"new customers get {program.signup_bonus} bonus points.</p></body></html>"
    )
