"""The one Admin GraphQL client of the app.

It sends the shop's offline token (refreshed when due, plugin/shopify/tokens.py) to
`{SHOPIFY_ADMIN_ORIGIN}/admin/api/{version}/graphql.json` and deals with what the platform
answers besides data:
- throttling arrives as HTTP 200 with an error coded THROTTLED; we wait for the bucket to
  refill, computed from `extensions.cost` (requested cost, currently available, restore
  rate), rather than guessing a fixed delay (SHOPIFY.md 6.4);
- 429, 5xx and network timeouts are retried with exponential backoff (429 honours
  Retry-After);
- business errors arrive as HTTP 200 with `userErrors` and become `UserErrors`.
What is still failing after the last try raises `PlatformUnavailable`, which callers treat
as "try again later" (jobs retry it), unlike `PlatformError`, which will not get better.
"""
import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import requests
from flask import current_app

from plugin.backoff import backoff
from plugin.models.shops import Shop  # the shop and its token columns: platform facts
from plugin.shopify.grants import admin_origin
from plugin.shopify.tokens import access_token

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
TIMEOUT = (3.05, 20)
RETRYABLE_STATUS = {429, 500, 502, 503, 504}
MAX_WAIT_SECONDS = 30.0


class PlatformError(Exception):
    """The platform refused the request for a reason retrying will not fix."""


class PlatformUnavailable(PlatformError):
    """Throttled, down or unreachable through every try: worth retrying later."""


class ShopUnauthorized(PlatformError):
    """401/403: the token was revoked (uninstall) or lacks a scope."""


class UserErrors(PlatformError):
    """The mutation ran and was refused; `errors` are the platform's `userErrors`."""

    def __init__(self, errors: list[dict]):
        super().__init__("; ".join(str(error.get("message")) for error in errors) or "user errors")
        self.errors = errors


class AdminClient:
    def __init__(self, shop_id: int, shop_domain: str, http: requests.Session | None = None,
                 sleep: Callable[[float], None] | None = None, max_attempts: int = MAX_ATTEMPTS,
                 max_wait: float = MAX_WAIT_SECONDS, known: Shop | None = None):
        self.shop_id = shop_id
        self.known = known  # the shop's row as the caller just read it: see `access_token`
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        self.url = (f"{admin_origin(shop_domain)}/admin/api/"
                    f"{current_app.config['SHOPIFY_API_VERSION']}/graphql.json")
        self.http = http or _thread_session()
        self.sleep = sleep or current_app.config.get("ADMIN_API_SLEEP") or time.sleep

    def query(self, document: str, variables: dict | None = None) -> dict:
        """Run a query or mutation; returns its `data`."""
        for attempt in range(1, self.max_attempts + 1):
            wait = self._try(document, variables)
            if isinstance(wait, dict):
                return wait
            if attempt == self.max_attempts:
                break
            self.sleep(min(wait if wait is not None else jittered_backoff(attempt), self.max_wait))
        raise PlatformUnavailable(f"the Admin API did not answer after {self.max_attempts} tries")

    def mutate(self, document: str, variables: dict, field: str) -> dict:
        """Run a mutation and return `data[field]`, raising UserErrors if it was refused."""
        result = self.query(document, variables).get(field) or {}
        if result.get("userErrors"):
            raise UserErrors(result["userErrors"])
        return result

    def _try(self, document: str, variables: dict | None):
        """The data, or how long to wait before the next try (None: plain backoff)."""
        headers = {"X-Shopify-Access-Token": access_token(self.shop_id, self.known), "Content-Type": "application/json"}
        try:
            response = self.http.post(self.url, json={"query": document, "variables": variables or {}},
                                      headers=headers, timeout=TIMEOUT)
        except (requests.ConnectionError, requests.Timeout) as error:
            log.warning("Admin API unreachable (%s); retrying", type(error).__name__)
            return None
        if response.status_code in RETRYABLE_STATUS:
            return retry_after(response)
        if response.status_code in (401, 403):
            raise ShopUnauthorized(f"the Admin API refused the shop's token (HTTP {response.status_code})")
        if response.status_code != 200:
            raise PlatformError(f"the Admin API answered HTTP {response.status_code}")
        return self._read(response)

    def _read(self, response: requests.Response):
        try:
            answer = response.json()
        except ValueError:
            return None  # a truncated body from a proxy: worth another try
        errors = answer.get("errors") or []
        if any((error.get("extensions") or {}).get("code") == "THROTTLED" for error in errors):
            return throttle_wait(answer.get("extensions", {}).get("cost", {}))
        if errors:
            raise PlatformError("; ".join(str(error.get("message")) for error in errors))
        return answer.get("data") or {}


_local = threading.local()


def _thread_session() -> requests.Session:
    """One keep-alive session per thread: a new connection (and TLS handshake) per call
    would cost more than the call. Sessions are not shared across threads."""
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def jittered_backoff(attempt: int) -> float:
    """0.5 s, 1 s, 2 s, 4 s ... with jitter, so retries from many jobs spread out."""
    return backoff(attempt, first=timedelta(seconds=0.5), factor=2).total_seconds() * random.uniform(0.8, 1.2)


def retry_after(response: requests.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


def throttle_wait(cost: dict) -> float:
    """Seconds until the bucket holds the requested cost again."""
    status = cost.get("throttleStatus") or {}
    try:
        missing = float(cost["requestedQueryCost"]) - float(status["currentlyAvailable"])
        return max(missing / float(status["restoreRate"]), 0.5)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return 1.0
