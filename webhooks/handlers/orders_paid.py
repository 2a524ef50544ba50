"""`orders/paid`: the order is paid, so its customer earns points, once; its loyalty codes are used.

The order may already carry refunds (`refunds[]`) and a cancellation (`cancelled_at`): each
is applied as its own webhook would apply it (plugin/loyalty/order_reports.py); an embedded
refund is read by the same parser as `refunds/create`.
"""
import hashlib
from dataclasses import replace
from decimal import Decimal

from plugin.ids import parse_id
from plugin.loyalty.earning.rules import OrderFacts, line_amount, normalise_tag
from plugin.loyalty.earning.strategies import LineFacts
from plugin.loyalty.order_reports import OrderReport, order_paid
from webhooks.handlers import refunds_create
from webhooks.handlers.payloads import (
    PayloadError,
    customer_id,
    items,
    money,
    optional_text,
    platform_id,
    quantity,
    required,
    shop_money,
    timestamp,
)


def parse(payload: dict) -> OrderReport:
    """The order with what it carries: its refunds and its cancellation."""
    cancelled_at = timestamp(payload.get("cancelled_at"), "cancelled_at")
    return OrderReport(
        order=order_facts(payload),
        refunds=tuple(refunds_create.parse({**refund, "order_id": payload.get("id")})
                      for refund in items(payload, "refunds")),
        cancelled_at=cancelled_at,
        financial_status=optional_text(payload.get("financial_status"), 32),
    )


def order_facts(payload: dict) -> OrderFacts:
    """What the order earns on."""
    customer = payload.get("customer") if isinstance(payload.get("customer"), dict) else {}
    lines = tuple(line_facts(line) for line in items(payload, "line_items"))
    subtotal = shop_money(payload, "subtotal_price")
    return OrderFacts(
        order_id=platform_id(required(payload, "id"), "id"),
        name=optional_text(payload.get("name"), 64),
        customer_id=customer_id(payload),
        email=optional_text(customer.get("email") or payload.get("email"), 320),
        subtotal=subtotal,
        gift_card_total=sum((line_amount(line.price, Decimal(line.quantity), line.discount)
                             for line in lines if line.gift_card), Decimal(0)),
        tags=frozenset(normalise_tag(t) for t in str(payload.get("tags") or "").split(",") if t.strip()),
        test=payload.get("test") is True,
        discount_codes=discount_codes(payload),
        total_price=order_total(payload),
        lines=lines,
        business_time=timestamp(payload.get("processed_at") or payload.get("created_at"), "processed_at"),
        cancelled=payload.get("cancelled_at") is not None,
        lines_subtotal=lines_subtotal(payload, subtotal),
        shopper_marks=shopper_marks(payload),
    )


def lines_subtotal(payload: dict, subtotal: Decimal) -> Decimal | None:
    """`total_line_items_price` less `total_discounts` when the order sends both and it is not
    `subtotal_price` (SPEC "Points rules": the points follow `subtotal_price`). Figures that
    cannot be read leave the order unlisted rather than failed: they decide no points."""
    if payload.get("total_line_items_price") is None and payload.get("total_line_items_price_set") is None:
        return None
    try:
        lines = shop_money(payload, "total_line_items_price") - shop_money(payload, "total_discounts", False)
    except PayloadError:
        return None
    return None if lines == subtotal else lines


def shopper_marks(payload: dict) -> tuple[str, ...]:
    """Digests (never the values) of the order's device address, shipping address and card."""
    client = payload.get("client_details") if isinstance(payload.get("client_details"), dict) else {}
    shipping = payload.get("shipping_address") if isinstance(payload.get("shipping_address"), dict) else {}
    card = payload.get("payment_details") if isinstance(payload.get("payment_details"), dict) else {}
    parts = {
        "device": [payload.get("browser_ip") or client.get("browser_ip")],
        "shipping": [shipping.get(name) for name in ("address1", "address2", "zip", "country_code")],
        "card": [card.get("credit_card_bin"), card.get("credit_card_number"), card.get("credit_card_company")],
    }
    return tuple(f"{kind}:{_digest(values)}" for kind, values in parts.items() if any(values))


def _digest(values: list) -> str:
    text = "|".join(" ".join(str(value or "").lower().split()) for value in values)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def line_facts(line: dict) -> LineFacts:
    """One line item: its ids, price, quantity and the discounts allocated to it."""
    allocations = items(line, "discount_allocations")
    if allocations:
        discount = sum((shop_money(a, "amount") for a in allocations), Decimal(0))
    else:  # older payloads: the line's total discount
        discount = shop_money(line, "total_discount", required_field=False)
    count = quantity(line.get("quantity", 1), "line_items.quantity")
    price = shop_money(line, "price")
    money(price * count, "line_items price × quantity")  # what a multiplier multiplies must fit too
    return LineFacts(
        line_id=parse_id(line.get("id")),
        product_id=parse_id(line.get("product_id")),
        sku=optional_text(line.get("sku"), 255),
        vendor=optional_text(line.get("vendor"), 255),
        quantity=count,
        price=price,
        discount=discount,
        gift_card=line.get("gift_card") is True,
    )


def order_total(payload: dict) -> Decimal | None:
    """The order's total in shop money; a total we cannot read must not cost the shopper points."""
    try:
        total = shop_money(payload, "total_price", required_field=False)
    except PayloadError:
        return None
    return total if total >= 0 else None


def discount_codes(payload: dict) -> tuple[str, ...]:
    return tuple(str(entry["code"]) for entry in items(payload, "discount_codes") if entry.get("code"))


def apply(session, shop, facts: OrderReport, delivery=None) -> set[int]:
    return apply_many(session, shop, [(facts, delivery)])


def apply_many(session, shop, deliveries: list) -> set[int]:
    """A run of paid orders from one batch, awarded together (plugin/loyalty/orders.py);
    returns the event ids of orders that wait for product facts (nothing of theirs is written)."""
    return waiting_events(deliveries, order_paid(session, shop, paid_when_delivered(deliveries)).waiting)


def paid_when_delivered(deliveries: list) -> list[OrderReport]:
    """Paid when the platform says it happened, not when a worker got to it."""
    return [report if delivery is None else replace(report, order=replace(report.order, paid_at=delivery.occurred_at))
            for report, delivery in deliveries]


def waiting_events(deliveries: list, waiting: set[int]) -> set[int]:
    return {delivery.event_id for report, delivery in deliveries
            if delivery is not None and report.order_id in waiting}
