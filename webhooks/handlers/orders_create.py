"""`orders/create`: an order carrying one of our codes marks it used; it earns nothing yet.

Points wait for `orders/paid` (an order may be created unpaid and later voided), but a code
is spent the moment the order exists, so the shopper's page shows it used at once.
"""
from dataclasses import dataclass

from plugin.loyalty.orders import order_created
from webhooks.handlers.orders_paid import discount_codes
from webhooks.handlers.payloads import platform_id, required


@dataclass(frozen=True)
class CreatedOrder:
    order_id: int
    discount_codes: tuple[str, ...]


def parse(payload: dict) -> CreatedOrder:
    return CreatedOrder(platform_id(required(payload, "id"), "id"), discount_codes(payload))


def apply(session, shop, facts: CreatedOrder, delivery=None) -> None:
    order_created(session, shop, facts.order_id, facts.discount_codes)
