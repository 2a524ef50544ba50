"""Session tokens: the HS256 JWTs that App Bridge gives the embedded panel.

Decoding is ShopifyAPI's `decode_from_header` (signature, `aud` = our API key, `exp`/`nbf`
with 10 s leeway, issuer and destination on the same *.myshopify.com host). It treats `exp`
as optional; we require it, since a token without an expiry would be good forever.
"""
import time
import uuid
from urllib.parse import urlparse

import jwt
from shopify import session_token


class InvalidSessionToken(Exception):
    """The request does not carry a usable session token."""


def shop_from_header(authorization: str | None, api_key: str, secret: str) -> str:
    """The shop domain (`dest` host) a valid `Authorization: Bearer` token speaks for."""
    if not authorization:
        raise InvalidSessionToken("missing Authorization: Bearer <session token>")
    try:
        claims = session_token.decode_from_header(authorization, api_key, secret)
    except session_token.SessionTokenError as error:
        raise InvalidSessionToken(f"invalid session token: {error}") from None
    if "exp" not in claims:
        raise InvalidSessionToken("invalid session token: it has no expiry")
    return urlparse(claims["dest"]).hostname


def issue(shop: str, api_key: str, secret: str, lifetime_seconds: int = 3600) -> str:
    """A token as App Bridge would make it, for local use (`dev-token`) only."""
    now = int(time.time())
    claims = {
        "iss": f"https://{shop}/admin", "dest": f"https://{shop}", "aud": api_key,
        "sub": "1", "exp": now + lifetime_seconds, "nbf": now, "iat": now,
        "jti": str(uuid.uuid4()), "sid": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret, algorithm="HS256")
