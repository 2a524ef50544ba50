"""Calls to the platform's OAuth token endpoint: code grant, token exchange, refresh.

All three POST to `{SHOPIFY_ADMIN_ORIGIN}/admin/oauth/access_token`, so a fake platform on
loopback can stand in for tests. Offline tokens are requested as expiring (`expiring=1`):
public apps must use them, and their refresh tokens rotate on every use (SHOPIFY.md 3.3).
Neither ShopifyAPI (no timeout, no origin override, no expiring tokens) nor `shopifyapp`
(httpx, fixed `https://{shop}` origin) fits these calls, so they are plain `requests`.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

import requests
from flask import Flask, current_app

from plugin.db import utcnow

TIMEOUT = (3.05, 15)
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE_TOKEN = "urn:shopify:params:oauth:token-type:offline-access-token"
ORIGIN_RESOLVER = "shopify_origin_resolver"  # its key in app.extensions


class PlatformAuthError(Exception):
    """The platform refused to grant a token (or could not be reached)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Grant:
    access_token: str
    scopes: str
    expires_at: datetime | None
    refresh_token: str | None
    refresh_expires_at: datetime | None


def route_admin_calls(app: Flask, resolver: Callable[[str], str | None]) -> None:
    """Let `resolver` name a shop's origin before SHOPIFY_ADMIN_ORIGIN does (None: it does not).

    The app factory hands one in, in development only: plugin/dev_shop.py sends the
    development shop to the development platform inside this app. The platform layer
    itself knows no such shop.
    """
    app.extensions[ORIGIN_RESOLVER] = resolver


def admin_origin(shop: str) -> str:
    """Where this shop's OAuth and Admin API calls go: the origin the app factory's resolver
    names, if any, else SHOPIFY_ADMIN_ORIGIN."""
    resolver = current_app.extensions.get(ORIGIN_RESOLVER)
    return (resolver and resolver(shop)) or current_app.config["SHOPIFY_ADMIN_ORIGIN"].format(shop=shop).rstrip("/")


def exchange_code(shop: str, code: str) -> Grant:
    """The authorization-code grant at the end of an OAuth install."""
    return _request_token(shop, {"code": code, "expiring": "1"})


def exchange_id_token(shop: str, id_token: str) -> Grant:
    """Token exchange: trade the embedded admin's id token for an offline access token."""
    return _request_token(shop, {"grant_type": TOKEN_EXCHANGE, "subject_token": id_token,
                                 "subject_token_type": ID_TOKEN, "requested_token_type": OFFLINE_TOKEN,
                                 "expiring": "1"})


def refresh(shop: str, refresh_token: str) -> Grant:
    return _request_token(shop, {"grant_type": "refresh_token", "refresh_token": refresh_token})


def _request_token(shop: str, fields: dict) -> Grant:
    config = current_app.config
    body = {"client_id": config["SHOPIFY_API_KEY"], "client_secret": config["SHOPIFY_API_SECRET"], **fields}
    try:
        response = requests.post(f"{admin_origin(shop)}/admin/oauth/access_token", data=body,
                                 headers={"Accept": "application/json"}, timeout=TIMEOUT)
    except requests.RequestException as error:
        raise PlatformAuthError(f"the platform could not be reached ({type(error).__name__})") from None
    if response.status_code != 200:
        raise PlatformAuthError(f"the platform refused the token request (HTTP {response.status_code})",
                                response.status_code)
    try:
        return _grant(response.json())
    except (ValueError, KeyError, TypeError):
        raise PlatformAuthError("the platform's token answer could not be read") from None


def _grant(answer: dict) -> Grant:
    now = utcnow()

    def after(seconds) -> datetime | None:
        return now + timedelta(seconds=int(seconds)) if seconds else None

    return Grant(
        access_token=str(answer["access_token"]),
        scopes=str(answer.get("scope", "")),
        expires_at=after(answer.get("expires_in")),
        refresh_token=answer.get("refresh_token"),
        refresh_expires_at=after(answer.get("refresh_token_expires_in")),
    )
