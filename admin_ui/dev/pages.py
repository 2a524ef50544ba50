"""`/dev`: a page that plays the store for the development shop (SPEC "Trying it without a store").

It opens the real embedded panel as the shop's merchant (`/dev/admin`: a frame, as the admin
frames it, opened with an id token signed as the admin signs one), the real storefront page
as one of its customers (`/dev/storefront`, through storefront.py's signed proxy URLs), sends
signed sample webhooks through the real intake, plays Shopify Flow (flow.py: a signed lifecycle
callback and action run), and shows what the development platform was sent. Routes only parse
and call; the work is in samples.py, received.py, flow.py and the platform.
"""
import base64
import re
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, redirect, render_template, request

from admin_ui.dev import catalogue, flow, received, samples, store_credit, store_orders
from admin_ui.dev.guard import only_in_development
from admin_ui.dev.storefront import CUSTOMER_COOKIE, PREFIX
from plugin.db import reading_session, transaction
from plugin.dev_shop import dev_shop_domain
from plugin.html import html_response
from plugin.ids import parse_id
from plugin.loyalty.shops import find_shop
from plugin.shopify.session_tokens import issue
from plugin.shopify.tokens import has_usable_token

bp = Blueprint("dev", __name__, url_prefix="/dev", template_folder="templates")
bp.before_request(only_in_development)
# The admin's id tokens last a minute and App Bridge fetches new ones; this frame has no App
# Bridge (it works only inside the real admin), so its token lasts as long as a work session.
ID_TOKEN_SECONDS = 3600
PANEL_PATH = re.compile(r"^/[A-Za-z0-9/_-]{0,100}$")
NOTICES = {
    "orders": "Sent {count} webhooks through the intake ({accepted} accepted).",
    "recordings": "Replayed {count} recorded webhooks ({accepted} accepted).",
    "code-used": "Sent an order that uses the code ({accepted} of {count} accepted).",
    "no-code": "No such discount code on the development platform.",
    "refused-deactivated": "Checkout refused the code: the app deactivated it.",
    "refused-already-used": "Checkout refused the code: it was used already.",
    "refused-not-new": "Checkout refused the code: it is for customers without orders, and this customer has ordered.",
    "flow-on": "Flow's lifecycle callbacks sent: {accepted} of {count} triggers are now used by a workflow.",
    "flow-run": "Flow's \"Adjust points\" run was answered HTTP {status}.",
    "order": "Sent the order ({accepted} of {count} webhooks accepted).",
    "no-products": "Choose at least one product for the order.",
    "refund": "Sent the refund ({accepted} of {count} accepted).",
    "no-refund": "Nothing of that line is left to refund.",
}
MAX_QUANTITY = 20
MAX_DAYS_AGO = 365


@bp.before_request
def same_origin_posts():
    """Forms here change the development database: only this app's own pages may post them."""
    origin = request.headers.get("Origin")
    if request.method == "POST" and origin and origin.rstrip("/") != request.host_url.rstrip("/"):
        abort(403)


@bp.get("")
def home():
    shop = dev_shop_domain()
    session = reading_session()
    try:
        with session.begin():
            known = find_shop(session, shop)
            context = {
                "shop": shop, "installed": known is not None and has_usable_token(known),
                "customers": catalogue.CUSTOMERS, "codes": received.codes(session, shop, catalogue.PRODUCTS[2].price),
                "metafields": received.metafields(session, shop), "tags": received.tags(session, shop),
                "flow_triggers": flow.trigger_calls(session, shop),
                "credits": store_credit.credits(session, shop), "perks": store_credit.perks(session, shop),
                "notice": _notice(), "max_orders": samples.MAX_ORDERS, "prefix": PREFIX,
                "products": catalogue.PRODUCTS, "orders": store_orders.recent(session, shop),
                "max_quantity": MAX_QUANTITY, "max_days_ago": MAX_DAYS_AGO,
            }
    finally:
        session.close()
    return html_response(render_template("dev/home.html", **context))


def _notice() -> str | None:
    template = NOTICES.get(request.args.get("notice", ""))
    numbers = {name: parse_id(request.args.get(name, "")) or 0 for name in ("count", "accepted", "status")}
    return template.format(**numbers) if template else None


@bp.get("/admin")
def admin():
    """The panel in a frame, opened as the admin opens it: shop, host, embedded and a fresh id token."""
    shop, config = dev_shop_domain(), current_app.config
    path = request.args.get("path", "/")
    path = path if PANEL_PATH.fullmatch(path) else "/"
    host = base64.urlsafe_b64encode(f"admin.shopify.com/store/{shop.removesuffix('.myshopify.com')}".encode())
    query = urlencode({"shop": shop, "host": host.decode().rstrip("="), "embedded": "1",
                       "id_token": issue(shop, config["SHOPIFY_API_KEY"], config["SHOPIFY_API_SECRET"],
                                         ID_TOKEN_SECONDS)})
    return html_response(render_template("dev/admin.html", shop=shop, src=f"{path}?{query}"))


@bp.get("/storefront")
def storefront():
    """Log in as the chosen customer (or as nobody) and open the storefront page."""
    customer_id = parse_id(request.args.get("customer_id", ""))
    response = redirect(f"{PREFIX}/", 303)
    if customer_id is None:
        response.delete_cookie(CUSTOMER_COOKIE, path="/")
    else:
        response.set_cookie(CUSTOMER_COOKIE, str(customer_id), path="/", httponly=True, samesite="Lax")
    return response


@bp.post("/orders")
def send_orders():
    count = parse_id(request.form.get("count", "")) or 0
    count = min(max(count, 1), samples.MAX_ORDERS)
    return _sent("orders", samples.send(samples.generated_orders(dev_shop_domain(), count)))


@bp.post("/recordings")
def send_recordings():
    return _sent("recordings", samples.send(samples.recordings(dev_shop_domain())))


@bp.post("/orders/with-code")
def use_code():
    """A paid order by the code's customer (a new customer for a welcome code) that carries the code,
    as checkout would send it."""
    shop = dev_shop_domain()
    with transaction() as session:
        row = received.find_code(session, shop, request.form.get("code", ""), catalogue.PRODUCTS[2].price)
    if row is None:
        return redirect("/dev?notice=no-code", 303)
    chosen = parse_id(request.form.get("customer_id", ""))
    if row.customer_id is None:
        # A referral's welcome code is nobody's yet: the invited friend, a new customer, uses it,
        # unless the form names one of the store's customers (whom its segment may refuse).
        buyer = (catalogue.customer(chosen) if chosen else None) or samples.new_customer()
    else:
        buyer = catalogue.customer(row.customer_id) or catalogue.DevCustomer(row.customer_id, "Customer",
                                                                             str(row.customer_id))
    with transaction() as session:
        refused = received.checkout_refusal(session, shop, row, buyer.customer_id)
    if refused is not None:
        return redirect(f"/dev?notice=refused-{refused}", 303)
    recording = samples.order_with_code(shop, buyer, row.code, row.discount)
    answers = samples.send([recording])
    with transaction() as session:
        received.mark_code_used(session, shop, row.code, samples.order_id(recording))
    return _sent("code-used", answers)


@bp.post("/flow/triggers")
def use_flow_triggers():
    """Play Flow: a workflow now uses every trigger of the app in this store."""
    answers = flow.use_every_trigger(dev_shop_domain())
    accepted = sum(1 for status in answers.values() if status == 200)
    return redirect(f"/dev?{urlencode({'notice': 'flow-on', 'count': len(answers), 'accepted': accepted})}", 303)


@bp.post("/flow/adjust-points")
def run_flow_action():
    """Play Flow: one signed run of "Adjust points" posted to the app's runtime_url."""
    customer_id = parse_id(request.form.get("customer_id", "")) or catalogue.CUSTOMERS[0].customer_id
    status, _answer = flow.run_adjust_points(dev_shop_domain(), customer_id, request.form.get("points", ""),
                                             request.form.get("reason", ""))
    return redirect(f"/dev?{urlencode({'notice': 'flow-run', 'status': status})}", 303)
@bp.post("/orders/chosen")
def place_chosen_order():
    """One paid order by the chosen customer (or a new one) of the chosen products, `days_ago` days back."""
    chosen = parse_id(request.form.get("customer_id", ""))
    buyer = catalogue.customer(chosen) if chosen else samples.new_customer()
    if buyer is None:
        abort(400)
    quantities = {product.product_id: min(parse_id(request.form.get(f"quantity-{product.product_id}", "")) or 0,
                                           MAX_QUANTITY) for product in catalogue.PRODUCTS}
    if not any(quantities.values()):
        return redirect("/dev?notice=no-products", 303)
    days_ago = min(parse_id(request.form.get("days_ago", "")) or 0, MAX_DAYS_AGO)
    return _sent("order", samples.send(samples.chosen_order(dev_shop_domain(), buyer, quantities, days_ago)))


@bp.post("/orders/<order_id>/refund")
def refund_chosen_order(order_id: str):
    """A refund of `quantity` items of one line of a kept order, as the admin would send it."""
    shop = dev_shop_domain()
    line_id, quantity = parse_id(request.form.get("line_id", "")), parse_id(request.form.get("quantity", "")) or 0
    with transaction() as session:
        order = store_orders.find_order(session, shop, parse_id(order_id) or 0)
    if order is None or line_id is None or not 0 < quantity <= store_orders.refundable(order, line_id):
        return redirect("/dev?notice=no-refund", 303)
    return _sent("refund", samples.send([samples.refund_recording(shop, order, line_id, quantity)]))


def _sent(notice: str, answers: dict):
    count, accepted = sum(answers.values()), sum(n for status, n in answers.items() if 200 <= status < 300)
    return redirect(f"/dev?{urlencode({'notice': notice, 'count': count, 'accepted': accepted})}", 303)
