"""`refunds/create`: take back the points of the refunded line items.

Refunds carry no customer; the order record links them to one. A restock-only refund with
no line items takes nothing. Shipping and order adjustments never earned points, so they
are not taken back either.
"""
from dataclasses import dataclass
from decimal import Decimal

from plugin.loyalty.ledger import RefundFacts, reverse_refund
from webhooks.handlers.payloads import items, money, platform_id, required, shop_money


@dataclass(frozen=True)
class RefundPayload:
    refund_id: int
    order_id: int
    subtotal: Decimal
    gift_card_subtotal: Decimal


def parse(payload: dict) -> RefundPayload:
    subtotal = gift_cards = Decimal(0)
    for line in items(payload, "refund_line_items"):
        # No line counts below zero: a negative one would cancel out what the other lines refund.
        amount = max(shop_money(line, "subtotal"), Decimal(0))
        subtotal += amount
        if isinstance(line.get("line_item"), dict) and line["line_item"].get("gift_card") is True:
            gift_cards += amount
    return RefundPayload(
        refund_id=platform_id(required(payload, "id"), "id"),
        order_id=platform_id(required(payload, "order_id"), "order_id"),
        # Stored as refunds.refunded_subtotal: the lines' sum must fit NUMERIC(18, 6) too.
        subtotal=money(subtotal, "refund_line_items subtotal (all lines)"),
        gift_card_subtotal=gift_cards,
    )


def apply(session, shop, facts: RefundPayload, delivery=None) -> None:
    excluded = facts.gift_card_subtotal if shop.rules.exclude_gift_cards else Decimal(0)
    reverse_refund(session, shop.id, RefundFacts(facts.refund_id, facts.order_id, facts.subtotal - excluded))
