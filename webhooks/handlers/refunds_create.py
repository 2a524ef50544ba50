"""`refunds/create`: take back the points of the refunded line items.

Refunds carry no customer; the order record links them to one. A restock-only refund with
no line items takes nothing. Shipping and order adjustments never earned points, so they
are not taken back either.
"""
from decimal import Decimal

from plugin.ids import parse_id
from plugin.loyalty.earning.engine import RefundLine
from plugin.loyalty.orders import RefundReport, order_refunded
from webhooks.handlers.payloads import items, money, platform_id, required, shop_money


def parse(payload: dict) -> RefundReport:
    lines, gift_cards = [], set()
    for index, line in enumerate(items(payload, "refund_line_items")):
        item = line.get("line_item") if isinstance(line.get("line_item"), dict) else {}
        lines.append(RefundLine(
            line_id=parse_id(line.get("line_item_id") or item.get("id")),
            quantity=max(int(money(line.get("quantity", 0), "refund_line_items.quantity")), 0),
            # No line counts below zero: a negative one would cancel out what the other lines refund.
            subtotal=max(shop_money(line, "subtotal"), Decimal(0))))
        if item.get("gift_card") is True:
            gift_cards.add(index)
    subtotal = sum((line.subtotal for line in lines), Decimal(0))
    return RefundReport(
        refund_id=platform_id(required(payload, "id"), "id"),
        order_id=platform_id(required(payload, "order_id"), "order_id"),
        # Stored as refunds.refunded_subtotal: the lines' sum must fit NUMERIC(18, 6) too.
        subtotal=money(subtotal, "refund_line_items subtotal (all lines)"),
        gift_card_subtotal=sum((lines[i].subtotal for i in gift_cards), Decimal(0)),
        lines=tuple(lines),
        gift_card_lines=frozenset(gift_cards),
    )


def apply(session, shop, facts: RefundReport, delivery=None) -> None:
    order_refunded(session, shop, facts)
