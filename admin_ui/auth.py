"""The session-token guard for `/api`: every route runs as exactly one shop, from the token.

A valid token is not enough: the shop must be one we know and that has not uninstalled the
app. Tokens stay valid for their minute after an uninstall, and after `shop/redact` erased
the shop; serving them would read or write a program the merchant gave up, or re-create an
erased shop with defaults. Only an install (the OAuth callback) or a token exchange (the
embedded page, admin_ui/pages.py) makes a shop servable again. So the refusal is the same
401 with the retry header as for a bad token, and the panel asks the merchant to reload
the page from the store admin: that load is the token exchange.

A merchant's script sends an API key instead (`Authorization: Bearer lk_...`, SPEC
"Merchants' scripts"): the key names its shop, its scope says which methods it may use, its
bucket how often (plugin/api_keys/rate.py), and the routes that manage keys take only a
session token, so a leaked key cannot make more keys. A key's 401 carries no App Bridge
retry header: no panel is there to fetch a fresh token.
"""
from functools import wraps

from flask import current_app, g, jsonify, request

from plugin.api_keys import rate
from plugin.api_keys.store import PREFIX, find_key, note_use
from plugin.db import READING_METHODS, request_session
from plugin.loyalty.shops import find_shop
from plugin.models import KeyScope, Shop
from plugin.shopify.session_tokens import InvalidSessionToken, shop_from_header

NOT_INSTALLED = "the app is not installed in this store; open it from the store admin to install it"
BAD_KEY = "unknown or revoked API key"
# Blueprints (under /api) that answer a session token only: managing keys is the merchant's.
SESSION_ONLY = frozenset({"api.api_keys_api"})


def unauthorized(message: str):
    response = jsonify(error=message)
    response.status_code = 401
    # Tells App Bridge to fetch a fresh token and retry once (SHOPIFY.md, trap 15).
    response.headers["X-Shopify-Retry-Invalid-Session-Request"] = "1"
    return response


def authenticate_shop():
    """`before_request` hook: sets `g.shop` (and `g.api_key` for a key) or answers 401."""
    header = request.headers.get("Authorization") or ""
    if header[:7].lower() == "bearer " and header[7:].strip().startswith(PREFIX):
        return _authenticate_key(header[7:].strip())
    try:
        domain = shop_from_header(request.headers.get("Authorization"), current_app.config["SHOPIFY_API_KEY"],
                                  current_app.config["SHOPIFY_API_SECRET"])
    except InvalidSessionToken as error:
        return unauthorized(str(error))
    shop = find_shop(request_session(), domain)
    if not _is_served(shop):
        return unauthorized(NOT_INSTALLED)
    g.shop = shop
    return None


def _authenticate_key(plain: str):
    key = find_key(request_session(), plain)
    shop = key and request_session().get(Shop, key.shop_id)
    if not _is_served(shop):
        return _refused(401, BAD_KEY if key is None else NOT_INSTALLED)
    wait = rate.take(key.key_hash)
    if wait:
        response = _refused(429, f"this API key is over its rate limit; try again in {rate.retry_after(wait)} s")
        response.headers["Retry-After"] = str(rate.retry_after(wait))
        return response
    if request.blueprint in SESSION_ONLY:
        return _refused(403, "API keys cannot create, list or revoke keys: the merchant does, in the panel")
    if key.scope is KeyScope.READ and request.method not in READING_METHODS:
        return _refused(403, "this API key may only read (GET); a write key is needed")
    g.shop, g.api_key = shop, key
    return None


def note_key_use(response):
    """`after_request` hook: a key's last use, and a write it made that succeeded on the
    keys' trail. The request's session is closed first (as teardown would: what the view
    did not commit is dropped), so the note's own transaction never waits for its lock."""
    key = g.get("api_key")
    if key is None:
        return response
    request_session().close()
    wrote = request.method not in READING_METHODS and response.status_code < 400
    note_use(key, (request.method, request.path, response.status_code) if wrote else None)
    return response


def _refused(status: int, message: str):
    response = jsonify(error=message)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


def _is_served(shop: Shop | None) -> bool:
    """Known and not uninstalled. A shop a webhook created before its first panel open is
    served: the platform mints session tokens only for stores that have the app installed."""
    return shop is not None and shop.uninstalled_at is None


def committing(view):
    """Commit the request's session when the view succeeds; services only flush."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        result = view(*args, **kwargs)
        request_session().commit()
        return result

    return wrapper
