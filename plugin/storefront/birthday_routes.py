"""`POST /proxy/birthday`: a logged-in shopper saves their birthday, once (SPEC "Birthdays").

Checked by the app proxy guard (plugin/storefront/routes.py) and by the page's CSRF token,
like a redeem button: the proxy signs whatever a logged-in shopper's browser sends, so a
foreign page could otherwise set a shopper's birthday for them. Success goes back to the
page with a notice; a refusal answers its status (401, 403, 409, 422) with a short page.
"""
from flask import Blueprint, g, redirect, request

from plugin.db import request_session, utcnow
from plugin.html import message_page, private_no_store
from plugin.loyalty.referrals.birthdays import BirthdayRefused, save_shoppers_birthday
from plugin.loyalty.shops import find_shop
from plugin.storefront import page as storefront
from plugin.storefront.routes import verify_proxy_request

bp = Blueprint("proxy_birthday", __name__, url_prefix="/proxy")
bp.before_request(verify_proxy_request)
bp.after_request(private_no_store)


@bp.post("/birthday")
def save_birthday():
    prefix = storefront.safe_prefix(request.args.get("path_prefix"))
    if g.proxy_customer_id is None:
        return message_page("Sign in first", "Sign in to your account to save your birthday.", 401)
    if not storefront.csrf_valid(request.form.get("csrf"), g.proxy_shop, g.proxy_customer_id):
        return message_page("Please try again", "That page was open too long; reload it and try again.", 403)
    session = request_session()
    shop = find_shop(session, g.proxy_shop)
    if shop is None:
        return message_page("No rewards here", "This store has no rewards program.", 404)
    try:
        save_shoppers_birthday(session, shop.id, g.proxy_customer_id, typed_birthday(request.form), utcnow())
    except BirthdayRefused as refused:
        session.rollback()
        return message_page("Birthday not saved", str(refused), 409 if refused.already_saved else 422)
    session.commit()
    return redirect(f"{prefix}?notice=birthday-saved", 303)


def typed_birthday(form) -> str | None:
    """The birthday as `MM-DD`: the launcher sends `birthday`, the page's two selects `month`
    and `day` (no free text to mistype); a half-filled pair is no birthday (422 says so)."""
    if form.get("birthday") is not None:
        return form.get("birthday")
    month, day = form.get("month", ""), form.get("day", "")
    return f"{month}-{day}" if month and day else None
