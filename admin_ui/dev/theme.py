"""`/dev/theme`: the development store's theme, a small one (home, a product page, the
account page) that renders the theme app extension's real Liquid (extensions/loyalty-theme/)
through python-liquid (admin_ui/dev/theme_liquid.py), with the launcher embed switched on.
A newcomer sees the program as a shopper would; the browser tests drive the extension's
real scripts against the real app proxy (`/apps/loyalty/...`, admin_ui/dev/storefront.py).

The signed-in shopper is the development store's cookie (as on the storefront page); their
customer metafields are read from the member as the store sync would have written them.
Assets are served from the extension's folder, as the store's CDN serves them.
"""
from flask import Blueprint, abort, redirect, render_template, request, send_from_directory
from markupsafe import Markup

from admin_ui.dev.catalogue import CUSTOMERS, PRODUCTS, VENDOR, customer
from admin_ui.dev.guard import only_in_development
from admin_ui.dev.storefront import CUSTOMER_COOKIE, logged_in_customer
from admin_ui.dev.theme_liquid import EXTENSION, render_block, schema
from plugin.db import request_session
from plugin.dev_shop import dev_shop_domain
from plugin.ids import parse_id
from plugin.loyalty.members import get_member
from plugin.loyalty.shops import find_shop
from plugin.loyalty.tiers.views import member_tiers

bp = Blueprint("dev_theme", __name__, url_prefix="/dev/theme", template_folder="templates")
bp.before_request(only_in_development)
ASSETS = "/dev/theme/assets/"
PAGES = {"home": ["ways-to-earn"], "product": ["product-points"], "account": ["points-balance"]}


@bp.get("/")
def home():
    return theme_page("home")


@bp.get("/<page>")
def theme_page(page: str):
    if page not in PAGES:
        abort(404)
    shopper, product = _customer(), _product()
    rendered = [Markup(render_block(name, customer=shopper, product=product, assets=ASSETS))
                for name in [*PAGES[page], "launcher"]]
    scripts = sorted({schema(name)["javascript"] for name in [*PAGES[page], "launcher"]})
    return render_template("dev/theme.html", page=page, blocks=rendered[:-1], embed=rendered[-1],
                           scripts=[ASSETS + name for name in scripts], shopper=shopper, product=product,
                           customers=CUSTOMERS, signed_in=logged_in_customer())


@bp.get("/assets/<path:name>")
def asset(name: str):
    return send_from_directory(EXTENSION / "assets", name)


@bp.get("/sign-in")
def sign_in():
    """Sign in as a customer of the store (or out), then back to the theme page."""
    customer_id = parse_id(request.args.get("customer_id", ""))
    page = request.args.get("page", "home")
    response = redirect(f"/dev/theme/{page if page in PAGES else 'home'}", 303)
    if customer_id is None:
        response.delete_cookie(CUSTOMER_COOKIE, path="/")
    else:
        response.set_cookie(CUSTOMER_COOKIE, str(customer_id), path="/", httponly=True, samesite="Lax")
    return response


def _customer() -> dict | None:
    """Liquid's `customer`, with the loyalty metafields the store sync keeps."""
    customer_id = logged_in_customer()
    if customer_id is None:
        return None
    known = customer(customer_id)
    shop = find_shop(request_session(), dev_shop_domain())
    member = None if shop is None else get_member(request_session(), shop.id, customer_id)
    tier = None if member is None else member_tiers(request_session(), shop.id, [member])[member.id]["tier"]
    loyalty = {} if member is None else {"points": {"value": member.balance}}
    if tier is not None:
        loyalty["tier"] = {"value": tier["name"]}
    return {"id": customer_id, "first_name": known.first_name if known else None,
            "email": known.email if known else None, "metafields": {"loyalty": loyalty}}


def _product() -> dict:
    """Liquid's `product` for the product page: the catalogue's first product (prices in cents)."""
    item = PRODUCTS[0]
    cents = int(item.price * 100)
    return {"id": item.product_id, "title": item.title, "price": cents, "type": item.product_type,
            "vendor": VENDOR, "tags": list(item.tags), "collections": [{"id": c} for c in item.collection_ids],
            "selected_or_first_available_variant": {"price": cents}}
