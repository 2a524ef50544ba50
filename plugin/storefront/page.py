"""The shopper's loyalty page, served through the app proxy: plain HTML forms.

The store's proxy gets it as `application/liquid`, inside the theme (page_in_theme.html),
with every Liquid delimiter in the text neutralised (plugin/storefront/liquid.py), so
nothing we print (reward names typed by the merchant, say) can run as Liquid (security
check APP_PROXY_LIQUID_INJECTION); `/dev` gets the standalone page.html. Jinja autoescapes
both: every value printed is escaped, and nothing is marked safe. This module
holds what the template is given (`page_context`) and the CSRF token of its redeem forms:
the proxy signs any request a logged-in shopper's browser makes, so without one a foreign
page could make a shopper spend their points.
"""
import hashlib
import hmac
import re
import time
from typing import NamedTuple

from flask import current_app

from plugin.dev_shop import is_dev_shop
from plugin.ids import parse_id
from plugin.models import Member, Program, Redemption, RedemptionStatus, Reward
from plugin.storefront import formatting

CSRF_LIFETIME_SECONDS = 2 * 3600
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
PATH_PREFIX = re.compile(r"/(apps|a|community|tools)/[A-Za-z0-9_-]{1,30}")
NOTICES = {
    "issued": "Your code is ready: apply it to your cart below.",
    "pending": "Your code is being created; refresh this page in a minute.",
    "failed": "We could not create your code, so your points were returned. Please try again later.",
    "insufficient": "You do not have enough points for that reward yet.",
    "unavailable": "That reward is not available any more.",
    "expired-form": "That page was open too long; please try again.",
    "closed": "Rewards cannot be redeemed in this store right now. Your points are safe.",
    "birthday-saved": "Your birthday is saved. Happy birthday in advance!",
    # Store credit: no code, the money is added to the shopper's account (used at checkout).
    "credit_issued": "Done: the store credit is in your account and can be used at checkout.",
    "credit_pending": "Your store credit is on its way; refresh this page in a minute.",
    "credit_failed": "We could not add your store credit, so your points were returned. Please try again later.",
}
STATUS_WORDS = {RedemptionStatus.PENDING: "being created", RedemptionStatus.ISSUED: "ready to use",
                RedemptionStatus.USED: "used", RedemptionStatus.EXPIRED: "expired", RedemptionStatus.FAILED: "failed"}


class CodeRow(NamedTuple):
    """One line of "Your codes": `ready` codes get an "Apply to cart" link; store credit has
    no code and says how much it added (`credit`)."""

    code: str
    reward: str
    state: str
    ready: bool
    credit: str | None = None


def csrf_token(shop: str, customer_id: int, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    return f"{issued}.{_csrf_mac(shop, customer_id, issued)}"


def csrf_valid(token: str | None, shop: str, customer_id: int) -> bool:
    issued, _, mac = (token or "").partition(".")
    issued_at = parse_id(issued)
    if issued_at is None or time.time() - issued_at > CSRF_LIFETIME_SECONDS:
        return False
    return hmac.compare_digest(mac, _csrf_mac(shop, customer_id, issued_at))


def _csrf_mac(shop: str, customer_id: int, issued: int) -> str:
    key = current_app.config["SHOPIFY_API_SECRET"].encode()
    return hmac.new(key, f"storefront-csrf:{shop}:{customer_id}:{issued}".encode(), hashlib.sha256).hexdigest()


def safe_prefix(path_prefix: str | None) -> str:
    """The storefront path the proxy serves us under, if it looks like one; else the default."""
    return path_prefix if path_prefix and PATH_PREFIX.fullmatch(path_prefix) else "/apps/loyalty"


def page_context(prefix: str, program: Program, rewards: list[Reward], member: Member | None,
                 customer_id: int | None, redemptions: list[Redemption], notice: str | None,
                 csrf: str | None, shop_domain: str | None = None, next_expiry: dict | None = None,
                 currency: str | None = None) -> dict:
    """The values templates/storefront/page.html lays out, as plain data.

    `points` is None for a shopper who is not signed in: the page then offers no forms.
    `notice` is one of our NOTICES or None, never the query's own text. `next_expiry` is
    plugin/loyalty/ledger/lifecycle.py's `{"points", "expires_at"}` for this shopper, or None.
    Figures are printed through `fmt` (plugin/storefront/formatting.py) in the shop's `currency`."""
    return {
        "fmt": formatting,
        "currency": currency,
        "prefix": prefix,
        "notice": NOTICES.get(notice or ""),
        "rate": program.points_per_currency_unit,
        "signup_bonus": program.signup_bonus,
        "points": None if customer_id is None else (member.balance if member else 0),
        "pending": member.pending if member else 0,
        "expiry": next_expiry,
        "rewards": rewards,
        "csrf": csrf or "",
        "codes": _codes(redemptions, rewards, currency),
        # The member's invitation link (SPEC "Referrals") and birthday, for a signed-in member.
        "referral_link": referral_link(shop_domain, prefix, member, program),
        "birthday": None if member is None else member.birthday,
        "birthday_bonus": program.birthday_bonus,
        "months": MONTHS,
    }


def referral_link(shop_domain: str | None, prefix: str, member: Member | None, program: Program) -> str | None:
    if member is None or not member.referral_code or not shop_domain or program.referral_points <= 0:
        return None
    return f"{storefront_origin(shop_domain)}{prefix}/r/{member.referral_code}"


def storefront_origin(shop_domain: str) -> str:
    """Where the shop's storefront is: `https://<shop>`. The development shop, in development,
    has none: this app's own `/apps/loyalty` plays its proxy, so /dev's links resolve here."""
    return current_app.config["SHOPIFY_APP_URL"].rstrip("/") if is_dev_shop(shop_domain) else f"https://{shop_domain}"


def _codes(redemptions: list[Redemption], rewards: list[Reward], currency: str | None) -> list[CodeRow]:
    names = {reward.id: reward.name for reward in rewards}
    return [CodeRow(code=r.code, reward=names.get(r.reward_id, "Reward"), state=STATUS_WORDS[r.status],
                    ready=r.status is RedemptionStatus.ISSUED and r.credit_amount is None,
                    credit=None if r.credit_amount is None else
                    f"{formatting.money(r.credit_amount, r.credit_currency or currency)} in store credit")
            for r in redemptions]


def redeemed_notice(redemption: Redemption) -> str:
    """The notice key for a redemption just made: its status, said of store credit or a code."""
    return ("credit_" if redemption.credit_amount is not None else "") + redemption.status.value
