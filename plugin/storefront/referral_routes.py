"""`/proxy/r/<code>`: a referred friend's page, and their welcome code (SPEC "Referrals").

The friend is usually not logged in (no `logged_in_customer_id`), so nothing here needs a
shopper: the referral code in the path names the referrer. The request is checked by the
same app proxy guard as the shopper's page (plugin/storefront/routes.py). The form has no
CSRF token on purpose: it spends nobody's points, and anyone may post it anyway.
"""
import ipaddress

from flask import Blueprint, current_app, g, render_template, request

from plugin.db import request_session, utcnow
from plugin.html import html_response, private_no_store
from plugin.loyalty.referrals.friends import (
    ReferralRefused,
    Refusal,
    find_referrer,
    friend_reward,
    start_referral,
)
from plugin.loyalty.referrals.welcome_codes import issue_welcome_code
from plugin.loyalty.shops import find_shop
from plugin.models import ReferralStatus
from plugin.storefront import page as storefront
from plugin.storefront.routes import verify_proxy_request

bp = Blueprint("proxy_referrals", __name__, url_prefix="/proxy", template_folder="templates")
bp.before_request(verify_proxy_request)
bp.after_request(private_no_store)
TEMPLATE = "storefront/referral.html"
CODE_LIMIT = 32  # longer than any referral code: no look-up for junk


@bp.get("/r/<code>")
def referral_page(code: str):
    shop, referrer = _shop_and_referrer(code)
    if referrer is None:
        return _page(404, code, error="This invitation link is not valid in this store.", form=False)
    reward = friend_reward(request_session(), shop.program)
    if reward is None or shop.program.referral_points <= 0:
        return _page(404, code, error="This store does not offer a welcome reward for friends right now.",
                     form=False)
    return _page(200, code, reward=reward.name)


# A refusal's HTTP answer: no welcome reward is 404, a bad email 422, the daily limit 429,
# a friend the shop cannot welcome again a conflict.
REFUSAL_STATUS = {Refusal.NO_WELCOME_REWARD: 404, Refusal.INVALID_EMAIL: 422, Refusal.REFERRERS_EMAIL: 422,
                  Refusal.DAILY_LIMIT: 429, Refusal.CLIENT_LIMIT: 429, Refusal.DOMAIN_LIMIT: 429,
                  Refusal.SHOP_LIMIT: 429, Refusal.ALREADY_INVITED: 409, Refusal.ALREADY_ORDERED: 409,
                  Refusal.LOOP: 409}


@bp.post("/r/<code>")
def ask_for_welcome_code(code: str):
    session = request_session()
    shop, referrer = _shop_and_referrer(code)
    if referrer is None:
        return _page(404, code, error="This invitation link is not valid in this store.", form=False)
    email = request.form.get("email", "")
    try:
        referral = start_referral(session, shop, referrer, email, utcnow(), client=shopper_address())
    except ReferralRefused as refused:
        session.rollback()
        return _page(REFUSAL_STATUS[refused.reason], code, error=str(refused), email=email)
    if referral.status is ReferralStatus.CODE_ISSUED:  # the same friend again: the code they were given
        welcome = referral.code
        session.rollback()  # nothing was written; the referrer's lock goes
        return _page(200, code, form=False, welcome_code=welcome, apply_link=f"https://{shop.domain}/discount/{welcome}")
    session.commit()
    made = issue_welcome_code(referral.id)
    if made is None:
        return _page(503, code, error="We could not create your code just now. Please try again in a few minutes.",
                     email=email)
    return _page(201, code, form=False, welcome_code=made.code,
                 apply_link=f"https://{shop.domain}/discount/{made.code}")


def shopper_address() -> str | None:
    """The shopper's address as the app proxy forwards it, or None when the request names none.

    The platform's proxy sets `X-Forwarded-For` to the shopper's address; each reverse proxy of
    this app's own (LOYALTY_PROXY_HOPS of them) appends the one it heard from. So the entry
    before those is the platform's, and anything earlier is what the shopper's browser claimed."""
    hops = current_app.config["PROXY_HOPS"]
    entries = [entry.strip() for entry in request.headers.get("X-Forwarded-For", "").split(",") if entry.strip()]
    if len(entries) <= hops:
        return None
    try:
        return str(ipaddress.ip_address(entries[-1 - hops]))
    except ValueError:
        return None


def _shop_and_referrer(code: str):
    shop = find_shop(request_session(), g.proxy_shop)
    if shop is None or not code or len(code) > CODE_LIMIT:
        return shop, None
    return shop, find_referrer(request_session(), shop.id, code)


def _page(status: int, code: str, form: bool = True, **values):
    prefix = storefront.safe_prefix(request.args.get("path_prefix"))
    body = render_template(TEMPLATE, action=f"{prefix}/r/{code[:CODE_LIMIT]}" if form else None, **values)
    return html_response(body, status)
