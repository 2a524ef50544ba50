"""Installing the app: the OAuth authorization-code flow (`/auth/install`, `/auth/callback`).

`install` checks the admin's query HMAC and the shop's form, records a one-time `state`
nonce (in the database, and in a cookie bound to this browser) and sends the merchant to
the store's authorize page. `callback` checks HMAC, shop and state, consumes the nonce so
a replayed callback fails, trades the code for an expiring offline token and stores it
encrypted. Nothing is written for a shop until the platform has granted a token.

Every signed install link that is opened records a nonce, and most are never called back
(a replayed link, an abandoned install), so `purge_expired_oauth_states` deletes the stale
ones; it is meant for the periodic schedule.
"""
import base64
import binascii
import re
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from flask import Blueprint, current_app, redirect, request
from sqlalchemy import delete
from sqlalchemy.orm import Session

from plugin.db import transaction, utcnow
from plugin.html import message_page
from plugin.loyalty.shops import get_or_create_shop, is_shop_domain
from plugin.models import OAuthState
from plugin.shopify.grants import PlatformAuthError, admin_origin, exchange_code
from plugin.shopify.query_hmac import is_signed_by_platform
from plugin.shopify.tokens import store_grant

bp = Blueprint("oauth", __name__)
STATE_COOKIE = "loyalty_oauth_state"
ADMIN_HOST = re.compile(r"admin\.shopify\.com/store/[a-z0-9][a-z0-9-]*")
STATE_LIFETIME = timedelta(minutes=10)


def _secrets() -> list[str | None]:
    return [current_app.config["SHOPIFY_API_SECRET"], current_app.config.get("SHOPIFY_API_SECRET_PREVIOUS")]


def _refusal():
    """The shop and HMAC checks both flows share; None when the request may go on."""
    shop = request.args.get("shop", "")
    if not is_shop_domain(shop):
        return message_page("Cannot install", "The shop must be a *.myshopify.com store domain.", 400)
    if not is_signed_by_platform(request.args, _secrets()):
        return message_page("Cannot install", "This link was not signed by the store platform, or it expired. "
                            "Start the installation again from the store admin.", 401)
    return None


@bp.get("/auth/install")
def install():
    refused = _refusal()
    if refused:
        return refused
    shop, nonce = request.args["shop"], secrets.token_urlsafe(32)
    with transaction() as session:
        session.add(OAuthState(nonce=nonce, shop_domain=shop))
    query = urlencode({"client_id": current_app.config["SHOPIFY_API_KEY"],
                       "scope": current_app.config["SHOPIFY_SCOPES"],
                       "redirect_uri": current_app.config["SHOPIFY_APP_URL"].rstrip("/") + "/auth/callback",
                       "state": nonce})
    response = redirect(f"{admin_origin(shop)}/admin/oauth/authorize?{query}")
    response.set_cookie(STATE_COOKIE, nonce, max_age=int(STATE_LIFETIME.total_seconds()), httponly=True,
                        secure=current_app.config["SHOPIFY_APP_URL"].startswith("https://"), samesite="Lax",
                        path="/auth")
    return response


@bp.get("/auth/callback")
def callback():
    refused = _refusal()
    if refused:
        return refused
    shop, state = request.args["shop"], request.args.get("state", "")
    if not state or request.cookies.get(STATE_COOKIE) != state or not _consume_state(shop, state):
        return message_page("Cannot install", "The installation state is missing, expired or was already "
                            "used. Start the installation again from the store admin.", 400)
    code = request.args.get("code", "")
    try:
        grant = exchange_code(shop, code)
    except PlatformAuthError as error:
        return message_page("Cannot install", f"The store did not accept this installation: {error}.", 400)
    with transaction() as session:
        store_grant(get_or_create_shop(session, shop), grant)
    response = redirect(_app_home(shop))
    response.delete_cookie(STATE_COOKIE, path="/auth")
    return response


def _consume_state(shop: str, state: str) -> bool:
    """Delete the nonce; True only if it existed, belonged to this shop and was fresh."""
    with transaction() as session:
        deleted = session.execute(delete(OAuthState).where(
            OAuthState.nonce == state, OAuthState.shop_domain == shop,
            OAuthState.created_at > utcnow() - STATE_LIFETIME))
    return deleted.rowcount == 1


def purge_expired_oauth_states(session: Session) -> int:
    """Delete the nonces no callback can use any more; returns how many. The caller commits."""
    # The same boundary `_consume_state` uses, so a nonce is purged exactly when it stops working.
    return session.execute(delete(OAuthState).where(OAuthState.created_at <= utcnow() - STATE_LIFETIME)).rowcount


def _app_home(shop: str) -> str:
    """Into the app inside the admin: the `host` the platform sent, else the shop's admin."""
    api_key = current_app.config["SHOPIFY_API_KEY"]
    try:
        host = base64.urlsafe_b64decode(request.args.get("host", "") + "==").decode()
    except (binascii.Error, UnicodeDecodeError):
        host = ""
    if ADMIN_HOST.fullmatch(host) or host == f"{shop}/admin":
        return f"https://{host}/apps/{api_key}"
    return f"https://{shop}/admin/apps/{api_key}"
