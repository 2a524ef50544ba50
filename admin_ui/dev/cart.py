"""The development store's cart: where "Apply to cart" (`/discount/<CODE>?redirect=/cart`) lands.

On a real store the storefront applies the code itself; the development store has no
storefront, so this page says which code a shopper has applied and goes back to the theme.
Development only, like every route of admin_ui/dev (guard.py).
"""
from flask import Blueprint

from admin_ui.dev.guard import only_in_development
from plugin.dev_shop import dev_shop_domain
from plugin.html import message_page

bp = Blueprint("dev_cart", __name__)
bp.before_request(only_in_development)


@bp.get("/discount/<code>")
def apply_code(code: str):
    return message_page("Code applied", f"The code {code[:64]} is applied to your cart at the development store. "
                        "Go back to /dev/theme to go on shopping.", 200, dev_shop_domain())
