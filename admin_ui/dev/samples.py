"""Sample webhooks for the development shop, sent signed through the real intake (`POST /webhooks`).

`generated_orders(n)` makes n paid orders spread round-robin over the store's customers
(catalogue.py) and over the last four weeks, each with product lines; the first order (two
items) then gets a partial refund of one item and the last one (of three or more) is
cancelled. `chosen_order` is one order of the chosen products by the chosen customer, and
`refund_recording` a refund of chosen items of a kept order. `order_with_code` is one paid order that uses
a discount code the platform issued, as checkout would report it. `recordings()` are the
replay files of tests/recordings with their shop set to the development shop.
Order ids come from the clock, so every click makes new orders; customers' webhook ids are
fixed, so sending them again is a duplicate the intake ignores.
"""
import itertools
import json
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from flask import current_app

from admin_ui.dev import store_orders
from admin_ui.dev.catalogue import CUSTOMERS, PRODUCTS, VENDOR, DevCustomer, DevProduct
from plugin.db import transaction, utcnow
from plugin.replay import InProcessSender, Recording, load_recordings, replay

RECORDINGS = Path(__file__).resolve().parents[2] / "tests" / "recordings"
MAX_ORDERS = 50
SPREAD_DAYS = 27
_sequence = itertools.count()


def _ids() -> int:
    """A new platform-like id: milliseconds since the epoch, then a per-process sequence."""
    return int(time.time() * 1000) * 1000 + next(_sequence) % 1000


def _recording(shop: str, topic: str, payload: dict, webhook_id: str | None = None) -> Recording:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Recording(topic, shop, webhook_id or str(uuid.uuid4()), body)


def _line(product: DevProduct, quantity: int, discount: Decimal = Decimal(0)) -> dict:
    allocations = [{"amount": str(discount), "discount_application_index": 0}] if discount else []
    return {"id": _ids(), "product_id": product.product_id, "variant_id": product.product_id + 1, "sku": product.sku,
            "vendor": VENDOR, "title": product.title, "name": product.title, "quantity": quantity,
            "price": str(product.price), "gift_card": product.gift_card, "discount_allocations": allocations,
            "total_discount": str(discount)}


def _order(customer: DevCustomer, lines: list[dict], codes: list[dict] = (), days_ago: int = 0) -> dict:
    order_id, now = _ids(), (utcnow() - timedelta(days=days_ago)).isoformat()
    subtotal = sum((Decimal(line["price"]) * line["quantity"] - Decimal(line["total_discount"]) for line in lines),
                   Decimal(0))
    discounts = sum((Decimal(code["amount"]) for code in codes), Decimal(0))
    return {"id": order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order_id}", "name": f"#D{order_id % 100000}",
            "email": customer.email, "currency": "USD", "financial_status": "paid", "test": False, "tags": "",
            "created_at": now, "processed_at": now, "cancelled_at": None, "subtotal_price": str(subtotal),
            "total_price": str(subtotal + Decimal("5.00")), "total_discounts": str(discounts),
            "discount_codes": list(codes), "line_items": lines, "refunds": [],
            "customer": {"id": customer.customer_id, "email": customer.email, "first_name": customer.first_name,
                         "last_name": customer.last_name}}


def customer_payload(customer: DevCustomer) -> dict:
    now = utcnow().isoformat()
    return {"id": customer.customer_id, "email": customer.email, "first_name": customer.first_name,
            "last_name": customer.last_name, "state": "enabled", "created_at": now, "updated_at": now}


def generated_orders(shop: str, count: int) -> list[Recording]:
    """The store's customers, then `count` paid orders, a partial refund and a cancellation."""
    sent = [_recording(shop, "customers/create", customer_payload(c), f"dev-customer-{c.customer_id}")
            for c in CUSTOMERS]
    orders = []
    for n in range(count):
        product = PRODUCTS[n % 3]
        # The first order buys two, so its refund of one item is partial.
        lines = [_line(product, 2 if n == 0 else 1 + n % 3)] + ([_line(PRODUCTS[3], 1)] if n % 4 == 3 else [])
        orders.append(_order(CUSTOMERS[n % len(CUSTOMERS)], lines, days_ago=_days_ago(n, count)))
    sent += [_recording(shop, "orders/paid", order) for order in orders]
    if orders:
        sent.append(_recording(shop, "refunds/create", _refund(orders[0])))
    if len(orders) >= 3:
        sent.append(_recording(shop, "orders/cancelled", {**orders[-1], "cancelled_at": utcnow().isoformat(),
                                                          "cancel_reason": "customer"}))
    return sent


def _days_ago(n: int, count: int) -> int:
    """Orders spread over the last SPREAD_DAYS, oldest first: their points belong to their own
    business time (`processed_at`), so the dashboard's charts have a history to show."""
    return (count - 1 - n) * SPREAD_DAYS // max(count - 1, 1)


def _refund(order: dict) -> dict:
    """One item of the order's first line given back."""
    return refund_of(order, order["line_items"][0]["id"], 1)


def refund_of(order: dict, line_id: int, quantity: int) -> dict:
    """`refunds/create` giving back `quantity` items of one line of the order (at the line's
    price less its share of the line's discount)."""
    line = next(line for line in order["line_items"] if line["id"] == line_id)
    each = (Decimal(line["price"]) * line["quantity"] - Decimal(line["total_discount"])) / line["quantity"]
    amount = str((each * quantity).quantize(Decimal("0.01")))
    return {"id": _ids(), "order_id": order["id"], "created_at": utcnow().isoformat(), "restock": True,
            "transactions": [],
            "refund_line_items": [{"id": _ids(), "line_item_id": line["id"], "quantity": quantity, "subtotal": amount,
                                   "subtotal_set": {"shop_money": {"amount": amount, "currency_code": "USD"}},
                                   "line_item": line}]}


def chosen_order(shop: str, customer: DevCustomer, quantities: dict[int, int], days_ago: int) -> list[Recording]:
    """The customer (created if new to the store), then one paid order of the chosen products
    (product id -> quantity), placed `days_ago` days ago."""
    lines = [_line(product, quantities[product.product_id]) for product in PRODUCTS
             if quantities.get(product.product_id, 0) > 0]
    return [_recording(shop, "customers/create", customer_payload(customer), f"dev-customer-{customer.customer_id}"),
            _recording(shop, "orders/paid", _order(customer, lines, days_ago=days_ago))]


def refund_recording(shop: str, order: dict, line_id: int, quantity: int) -> Recording:
    return _recording(shop, "refunds/create", refund_of(order, line_id, quantity))


def new_customer() -> DevCustomer:
    """A customer the store has not seen yet: a referred friend placing a first order."""
    customer_id = _ids()
    return DevCustomer(customer_id, f"Friend{customer_id % 1_000_000}", "Invited")


def order_with_code(shop: str, customer: DevCustomer, code: str, discount: Decimal) -> Recording:
    """A paid order of a teapot that used `code`, its discount allocated to the line."""
    product = PRODUCTS[2]
    discount = min(discount, product.price)
    codes = [{"code": code, "amount": str(discount), "type": "fixed_amount"}]
    return _recording(shop, "orders/paid", _order(customer, [_line(product, 1, discount)], codes))


def recordings(shop: str) -> list[Recording]:
    """tests/recordings, addressed to the development shop."""
    return [Recording(r.topic, shop, f"dev-{r.webhook_id}", r.body, r.event_id) for r in load_recordings(RECORDINGS)]


def send(recordings_to_send: list[Recording]) -> dict:
    """Sign and POST each to this app's /webhooks, in order; answers counted by status."""
    app = current_app._get_current_object()
    sender = InProcessSender(app, app.config["SHOPIFY_API_SECRET"])
    with transaction() as session:  # the store has the orders, whatever becomes of their webhooks
        for recording in recordings_to_send:
            store_orders.keep(session, recording.shop, recording.topic, recording.body)

    def one(recording: Recording) -> int:
        # A fresh app context: the webhook request must not share this request's `g` (its session).
        with app.app_context():
            return sender(recording)

    return dict(replay(recordings_to_send, one))


def order_id(recording: Recording) -> int:
    return int(json.loads(recording.body)["id"])
