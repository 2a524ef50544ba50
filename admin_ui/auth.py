"""The session-token guard for `/api`: every route runs as exactly one shop, from the token."""
from functools import wraps

from flask import current_app, g, jsonify, request

from plugin.db import request_session, transaction
from plugin.session_tokens import InvalidSessionToken, shop_from_header
from plugin.shops import find_shop, get_or_create_shop


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
    g.shop = find_shop(request_session(), domain)
    if g.shop is None:  # a valid token from a shop we never met: start it with the defaults
        # Ends the request's own transaction first: on SQLite it may hold the write lock.
        request_session().rollback()
        with transaction() as session:
            get_or_create_shop(session, domain)
        g.shop = find_shop(request_session(), domain)
    return None


def committing(view):
    """Commit the request's session when the view succeeds; services only flush."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        result = view(*args, **kwargs)
        request_session().commit()
        return result

    return wrapper
