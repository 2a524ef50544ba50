"""The session-token guard for `/api`: every route runs as exactly one shop, from the token.

A valid token is not enough: the shop must be one we know and that has not uninstalled the
app. Tokens stay valid for their minute after an uninstall, and after `shop/redact` erased
the shop; serving them would read or write a program the merchant gave up, or re-create an
erased shop with defaults. Only an install (the OAuth callback) or a token exchange (the
embedded page, admin_ui/pages.py) makes a shop servable again. So the refusal is the same
401 with the retry header as for a bad token, and the panel asks the merchant to reload
the page from the store admin: that load is the token exchange.
"""
from functools import wraps

from flask import current_app, g, jsonify, request

from plugin.db import request_session
from plugin.loyalty.shops import find_shop
from plugin.models import Shop
from plugin.shopify.session_tokens import InvalidSessionToken, shop_from_header

NOT_INSTALLED = "the app is not installed in this store; open it from the store admin to install it"


def unauthorized(message: str):
    response = jsonify(error=message)
    response.status_code = 401
    # Tells App Bridge to fetch a fresh token and retry once (SHOPIFY.md, trap 15).
    response.headers["X-Shopify-Retry-Invalid-Session-Request"] = "1"
    return response


def authenticate_shop():
    """`before_request` hook: sets `g.shop` or answers 401."""
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
