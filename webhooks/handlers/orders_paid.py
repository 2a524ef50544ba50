"""`orders/paid`: the order is paid, so its customer earns points, once; its loyalty codes are used."""
from dataclasses import replace
from decimal import Decimal

from plugin.loyalty.earning.rules import OrderFacts, line_amount, normalise_tag
from plugin.loyalty.ledger import award_points_for_orders
from plugin.loyalty.redemptions import mark_codes_used
from webhooks.handlers.payloads import (
    PayloadError,
    customer_id,
    items,
    money,
    optional_text,
    platform_id,
    required,
    shop_money,
)


def parse(payload: dict) -> OrderFacts:
    customer = payload.get("customer") if isinstance(payload.get("customer"), dict) else {}
    return OrderFacts(
        order_id=platform_id(required(payload, "id"), "id"),
        name=optional_text(payload.get("name"), 64),
        customer_id=customer_id(payload),
        email=optional_text(customer.get("email") or payload.get("email"), 320),
        subtotal=shop_money(payload, "subtotal_price"),
        gift_card_total=gift_card_total(items(payload, "line_items")),
        tags=frozenset(normalise_tag(t) for t in str(payload.get("tags") or "").split(",") if t.strip()),
        test=payload.get("test") is True,
        discount_codes=discount_codes(payload),
        total_price=order_total(payload),
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


def gift_card_total(line_items: list[dict]) -> Decimal:
    """What gift-card lines add to the subtotal: each line's price × quantity less its
    discount, clamped per line (see line_amount) so no line can add points to the order."""
    total = Decimal(0)
    for line in line_items:
        if line.get("gift_card") is True:
            quantity = int(money(line.get("quantity", 1), "line_items.quantity"))
            discount = shop_money(line, "total_discount", required_field=False)
            total += line_amount(shop_money(line, "price"), Decimal(quantity), discount)
    return total


def apply(session, shop, facts: OrderFacts, delivery=None) -> None:
    apply_many(session, shop, [(facts, delivery)])


def apply_many(session, shop, deliveries: list) -> None:
    """A run of paid orders from one batch, awarded together (see award_points_for_orders)."""
    # Paid when the platform says it happened, not when a worker got to it.
    orders = [facts if delivery is None else replace(facts, paid_at=delivery.occurred_at)
              for facts, delivery in deliveries]
    # The subtotal is already net of any loyalty code, so the code's value never earns points.
    award_points_for_orders(session, shop.id, orders, shop.rules)
    for order in orders:
        mark_codes_used(session, shop.id, list(order.discount_codes), order.order_id)
