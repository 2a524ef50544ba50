"""`refunds/create`: take back the points of the refunded line items.

Refunds carry no customer; the order record links them to one. A restock-only refund with
no line items takes nothing. Shipping and order adjustments never earned points, so they
are not taken back either.
"""
from dataclasses import dataclass
from decimal import Decimal

from plugin.ids import parse_id
from plugin.loyalty.earning.engine import RefundLine
from plugin.loyalty.ledger import RefundFacts, reverse_refund
from webhooks.handlers.payloads import items, money, platform_id, required, shop_money


@dataclass(frozen=True)
class RefundPayload:
    refund_id: int
    order_id: int
    subtotal: Decimal
    gift_card_subtotal: Decimal
    lines: tuple[RefundLine, ...] = ()


def parse(payload: dict) -> RefundPayload:
    lines = []
    for line in items(payload, "refund_line_items"):
        # No line counts below zero: a negative one would cancel out what the other lines refund.
        item = line.get("line_item") if isinstance(line.get("line_item"), dict) else {}
        lines.append(RefundLine(
            line_id=parse_id(line.get("line_item_id") or item.get("id")),
            quantity=max(int(money(line.get("quantity", 0), "refund_line_items.quantity")), 0),
            subtotal=max(shop_money(line, "subtotal"), Decimal(0)),
            gift_card=item.get("gift_card") is True))
    subtotal = sum((line.subtotal for line in lines), Decimal(0))
    return RefundPayload(
        refund_id=platform_id(required(payload, "id"), "id"),
        order_id=platform_id(required(payload, "order_id"), "order_id"),
        # Stored as refunds.refunded_subtotal: the lines' sum must fit NUMERIC(18, 6) too.
        subtotal=money(subtotal, "refund_line_items subtotal (all lines)"),
        gift_card_subtotal=sum((line.subtotal for line in lines if line.gift_card), Decimal(0)),
        lines=tuple(lines),
    )


def apply(session, shop, facts: RefundPayload, delivery=None) -> None:
    excluded = facts.gift_card_subtotal if shop.rules.exclude_gift_cards else Decimal(0)
    # Gift-card lines the program does not count earned nothing, so they take nothing back.
    lines = tuple(line for line in facts.lines if not (line.gift_card and shop.rules.exclude_gift_cards))
    reverse_refund(session, shop.id, RefundFacts(facts.refund_id, facts.order_id, facts.subtotal - excluded, lines))
