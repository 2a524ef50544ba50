"""orders/paid payloads shaped like the platform's, and a realistic mix of them.

The shape follows tests/recordings/normal_order.jsonl (the `*_set` money twins, line items
with a gift-card flag, a customer object) and tests/helpers.py `order()`. The expected
points are computed here from the SPEC rules with the default program (1 point per
currency unit of subtotal, gift cards excluded, test orders and guests earn nothing), without
calling the app, so the bench can check the ledger's totals independently.
"""
import json
import random
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

SHOP = "bench-tea-house.myshopify.com"
API_VERSION = "2026-10"

PRODUCTS = [
    ("Oolong tin", "OOLO", "42.25"), ("Sencha pouch", "SENC", "18.00"), ("Earl Grey tin", "EARL", "12.50"),
    ("Matcha whisk", "WHSK", "29.90"), ("Teapot, cast iron", "POT1", "84.00"), ("Chai blend", "CHAI", "9.75"),
    ("Rooibos pouch", "ROOI", "11.20"), ("Tasting set", "TSET", "55.00"),
]
TAG_CHOICES = ["", "", "", "", "vip", "repeat", "newsletter, repeat", "wholesale"]


def _money(amount: Decimal, currency: str = "USD") -> dict:
    text = f"{amount:.2f}"
    return {"shop_money": {"amount": text, "currency_code": currency},
            "presentment_money": {"amount": text, "currency_code": currency}}


def product_id(sku: str) -> int:
    """One product per SKU, so rules on product facts tell the lines apart."""
    return 632910000 + sum(ord(ch) * 31 ** i for i, ch in enumerate(sku)) % 100000


def _line(line_id: int, title: str, sku: str, price: Decimal, quantity: int, gift_card: bool) -> dict:
    return {
        "id": line_id, "admin_graphql_api_id": f"gid://shopify/LineItem/{line_id}", "title": title, "name": title,
        "product_id": product_id(sku), "variant_id": 808950810, "sku": sku, "vendor": "Rosebud",
        "quantity": quantity, "current_quantity": quantity, "price": f"{price:.2f}", "price_set": _money(price),
        "total_discount": "0.00", "total_discount_set": _money(Decimal(0)), "discount_allocations": [],
        "gift_card": gift_card, "taxable": not gift_card, "tax_lines": [], "properties": [],
    }


@dataclass(frozen=True)
class Order:
    order_id: int
    customer_id: int | None
    payload: dict
    expected_points: int

    @property
    def body(self) -> str:
        return json.dumps(self.payload, separators=(",", ":"))


def order_payload(order_id: int, number: int, customer_id: int | None, lines: list[tuple], tags: str = "",
                  test: bool = False) -> Order:
    """One orders/paid payload; `lines` are (title, sku, price, quantity, gift_card)."""
    items, subtotal, gift_cards = [], Decimal(0), Decimal(0)
    for index, (title, sku, price, quantity, gift_card) in enumerate(lines):
        price = Decimal(price)
        items.append(_line(order_id * 10 + index, title, sku, price, quantity, gift_card))
        subtotal += price * quantity
        if gift_card:
            gift_cards += price * quantity
    shipping = Decimal("5.00")
    email = None if customer_id is None else f"customer{customer_id % 100000}@example.com"
    customer = None if customer_id is None else {
        "id": customer_id, "admin_graphql_api_id": f"gid://shopify/Customer/{customer_id}", "email": email,
        "first_name": "Ada", "last_name": f"Customer{customer_id % 100000}", "state": "enabled",
        "currency": "USD", "created_at": "2026-10-01T08:00:00-05:00",
    }
    payload = {
        "id": order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order_id}", "name": f"#{number}",
        "order_number": number, "email": email or "guest@example.com", "contact_email": email or "guest@example.com",
        "currency": "USD", "presentment_currency": "USD", "financial_status": "paid", "fulfillment_status": None,
        "created_at": "2026-11-20T09:12:03-05:00", "processed_at": "2026-11-20T09:12:03-05:00",
        "updated_at": "2026-11-20T09:12:05-05:00", "cancelled_at": None, "cancel_reason": None, "test": test,
        "source_name": "web", "tags": tags,
        "subtotal_price": f"{subtotal:.2f}", "subtotal_price_set": _money(subtotal),
        "current_subtotal_price": f"{subtotal:.2f}",
        "total_price": f"{subtotal + shipping:.2f}", "total_price_set": _money(subtotal + shipping),
        "total_discounts": "0.00", "total_discounts_set": _money(Decimal(0)), "total_tax": "0.00",
        "total_line_items_price": f"{subtotal:.2f}", "total_shipping_price_set": _money(shipping),
        "discount_codes": [], "line_items": items, "refunds": [], "shipping_lines": [], "customer": customer,
    }
    earns = customer_id is not None and not test
    points = int(max(subtotal - gift_cards, Decimal(0)).to_integral_value(rounding=ROUND_FLOOR)) if earns else 0
    return Order(order_id, customer_id, payload, points)


def intake_body() -> bytes:
    """The fixed body of the intake load: one realistic order (about 2.5 KB)."""
    lines = [("Oolong tin", "OOLO", "42.25", 2, False), ("Gift card", "GIFT", "25.00", 1, True)]
    return order_payload(820982911946154508, 1001, 115310627314723954, lines).body.encode()


def order_mix(orders: int, customers: int, seed: int = 20261122, first: int = 0) -> list[Order]:
    """`orders` orders from `customers` customers, as a store sees them.

    Customers order with a long-tailed frequency (a few regulars, many one-off buyers);
    about 4% of orders are guest checkouts, 1% test orders, 8% contain a gift card, and
    baskets hold 1 to 4 lines with quantities of 1 to 3. `first` numbers a later slice of
    the same store's orders: the same customers, other picks and order ids (bench/memory.py).
    """
    rng = random.Random(seed)
    customer_ids = [7_000_000_000 + rng.randrange(10**9) * 1000 + i for i in range(customers)]
    if first:
        rng.seed(seed + first)
    weights = [1 / (rank + 1) ** 0.8 for rank in range(customers)]
    picks = rng.choices(customer_ids, weights=weights, k=orders)
    mix = []
    for index, customer_id in enumerate(picks):
        roll = rng.random()
        lines = [(title, sku, price, rng.choice((1, 1, 1, 2, 3)), False)
                 for title, sku, price in rng.sample(PRODUCTS, rng.choice((1, 1, 2, 2, 3, 4)))]
        if rng.random() < 0.08:
            lines.append(("Gift card", "GIFT", rng.choice(("25.00", "50.00")), 1, True))
        mix.append(order_payload(
            order_id=5_600_000_000_000 + first + index, number=1001 + first + index,
            customer_id=None if roll < 0.04 else customer_id,
            lines=lines, tags=rng.choice(TAG_CHOICES), test=0.04 <= roll < 0.05,
        ))
    return mix
