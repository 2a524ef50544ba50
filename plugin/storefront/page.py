"""The shopper's loyalty page, served through the app proxy: plain HTML, no JavaScript.

It is sent as `text/html`, not `application/liquid`, so nothing we print (reward names
typed by the merchant, say) can ever run as Liquid in the storefront (security check
APP_PROXY_LIQUID_INJECTION); everything is HTML-escaped. The redeem buttons are forms that
carry a CSRF token: the proxy signs any request a logged-in shopper's browser makes, so
without one a foreign page could make a shopper spend their points.
"""
import hashlib
import hmac
import re
import time
from html import escape

from flask import current_app

from plugin.ids import parse_id
from plugin.models import Member, Program, Redemption, RedemptionStatus, Reward

CSRF_LIFETIME_SECONDS = 2 * 3600
PATH_PREFIX = re.compile(r"/(apps|a|community|tools)/[A-Za-z0-9_-]{1,30}")
NOTICES = {
    "issued": "Your code is ready: apply it to your cart below.",
    "pending": "Your code is being created; refresh this page in a minute.",
    "failed": "We could not create your code, so your points were returned. Please try again later.",
    "insufficient": "You do not have enough points for that reward yet.",
    "unavailable": "That reward is not available any more.",
    "expired-form": "That page was open too long; please try again.",
    "closed": "Rewards cannot be redeemed in this store right now. Your points are safe.",
}
STATUS_WORDS = {RedemptionStatus.PENDING: "being created", RedemptionStatus.ISSUED: "ready to use",
                RedemptionStatus.USED: "used", RedemptionStatus.EXPIRED: "expired", RedemptionStatus.FAILED: "failed"}
STYLE = ("body{font-family:inherit,system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;"
         "line-height:1.5;color:#222}table{width:100%;border-collapse:collapse}td,th{padding:.4rem;"
         "border-bottom:1px solid #ddd;text-align:left}button{padding:.35rem .9rem;cursor:pointer}"
         ".notice{background:#eef6ee;border:1px solid #9c9;padding:.6rem;border-radius:4px}"
         ".balance{font-size:1.6rem;font-weight:600}code{font-size:1.05rem}")


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


def page(prefix: str, program: Program, rewards: list[Reward], member: Member | None, customer_id: int | None,
         redemptions: list[Redemption], notice: str | None, csrf: str | None) -> str:
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8>"
             f"<meta name=viewport content='width=device-width,initial-scale=1'>"
             f"<title>Rewards</title><style>{STYLE}</style></head><body><h1>Rewards</h1>"]
    if notice in NOTICES:
        parts.append(f"<p class=notice role=status>{escape(NOTICES[notice])}</p>")
    parts.append(_how_it_works(program))
    if customer_id is None:
        parts.append(f"<p><a href='/account/login?return_url={escape(prefix)}'>Sign in</a> to see your points "
                     f"and redeem them.</p>")
        parts.append(_catalog(rewards, prefix, None, None))
    else:
        points = member.balance if member else 0
        parts.append(f"<p>Your points: <span class=balance>{points}</span></p>")
        parts.append(_catalog(rewards, prefix, points, csrf))
        parts.append(_codes(redemptions, rewards))
    parts.append("</body></html>")
    return "".join(parts)


def _how_it_works(program: Program) -> str:
    bonus = f" and {program.signup_bonus} points when you create an account" if program.signup_bonus else ""
    return (f"<p>Earn {escape(str(program.points_per_currency_unit))} point(s) for every unit of currency you "
            f"spend{bonus}. Trade points for discount codes below.</p>")


def _catalog(rewards: list[Reward], prefix: str, points: int | None, csrf: str | None) -> str:
    rows = []
    for reward in rewards:
        action = ""
        if points is not None:
            disabled = "" if points >= reward.points_cost else " disabled"
            action = (f"<form method=post action='{escape(prefix)}/redemptions'>"
                      f"<input type=hidden name=reward_id value='{reward.id}'>"
                      f"<input type=hidden name=csrf value='{escape(csrf or '')}'>"
                      f"<button type=submit{disabled}>Redeem</button></form>")
        rows.append(f"<tr><td>{escape(reward.name)}</td><td>{reward.points_cost} points</td><td>{action}</td></tr>")
    if not rows:
        return "<p>No rewards are offered right now.</p>"
    return "<h2>Rewards</h2><table><tr><th>Reward</th><th>Cost</th><th></th></tr>" + "".join(rows) + "</table>"


def _codes(redemptions: list[Redemption], rewards: list[Reward]) -> str:
    if not redemptions:
        return ""
    names = {reward.id: reward.name for reward in rewards}
    rows = []
    for redemption in redemptions:
        apply = ""
        if redemption.status is RedemptionStatus.ISSUED:
            apply = f"<a href='/discount/{escape(redemption.code)}?redirect=/cart'>Apply to cart</a>"
        rows.append(f"<tr><td><code>{escape(redemption.code)}</code></td>"
                    f"<td>{escape(names.get(redemption.reward_id, 'Reward'))}</td>"
                    f"<td>{STATUS_WORDS[redemption.status]}</td><td>{apply}</td></tr>")
    return ("<h2>Your codes</h2><table><tr><th>Code</th><th>Reward</th><th>State</th><th></th></tr>"
            + "".join(rows) + "</table>")
