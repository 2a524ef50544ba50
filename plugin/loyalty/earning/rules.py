"""The earning rules: how many points an order is worth and how many a refund takes back.

Pure functions of parsed facts and the shop's program; no database. Money is Decimal end
to end and points are floored, so a customer is never credited a fraction we cannot honour.
"""
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal

from plugin.loyalty.earning.strategies import LineFacts


@dataclass(frozen=True)
class OrderFacts:
    """What the rules need from an order payload (see webhooks/handlers/payloads.py)."""

    order_id: int
    name: str | None
    customer_id: int | None
    email: str | None
    subtotal: Decimal
    gift_card_total: Decimal
    tags: frozenset[str] = field(default_factory=frozenset)
    test: bool = False
    discount_codes: tuple[str, ...] = ()
    # Kept on the order for the dashboard (loyalty revenue, orders per day); no rule reads them.
    total_price: Decimal | None = None
    paid_at: datetime | None = None
    lines: tuple[LineFacts, ...] = ()
    # The order's own time (processed_at, else created_at): rule windows are reckoned from it.
    business_time: datetime | None = None
    # Its date in the shop's zone (SPEC "Business time"), set where the zone is known: tiers
    # count the order on this day (plugin/loyalty/tiers/totals.py).
    business_day: date | None = None
    # The store reports it cancelled (`cancelled_at` set on the order itself): it cannot earn.
    cancelled: bool = False
    # What its lines say the subtotal is (line items less discounts), only when that disagrees
    # with `subtotal`: the points still follow `subtotal`, and the merchant sees the order listed.
    lines_subtotal: Decimal | None = None
    # Digests of what ties orders to one shopper where the payload carries it (device address,
    # shipping address, card): a referral keeps its friend's, for the Referrals page's patterns.
    shopper_marks: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProgramRules:
    points_per_currency_unit: Decimal
    excluded_order_tags: frozenset[str]
    exclude_gift_cards: bool
    award_test_orders: bool
    # Days an order's points stay pending after its business time (0: spendable at once).
    pending_days: int = 0


def line_amount(price: Decimal, quantity: Decimal, discount: Decimal) -> Decimal:
    """What one line is worth: price × quantity less its discount, never below zero nor above
    price × quantity. The platform's figures are not trusted to move points the other way:
    a gift-card line priced -100, subtracted from a subtotal of 10, once earned 110 points."""
    gross = max(price, Decimal(0)) * max(quantity, Decimal(0))
    return min(max(gross - discount, Decimal(0)), gross)


def eligible_amount(order: OrderFacts, rules: ProgramRules) -> Decimal:
    """The subtotal (after discounts, before shipping and tax) less gift cards, never below 0."""
    amount = order.subtotal - (order.gift_card_total if rules.exclude_gift_cards else Decimal(0))
    return max(amount, Decimal(0))


def order_counts(order: OrderFacts, rules: ProgramRules) -> bool:
    if order.customer_id is None or order.cancelled:
        return False
    if order.test and not rules.award_test_orders:
        return False
    return not (order.tags & rules.excluded_order_tags)


def points_for(amount: Decimal, rate: Decimal) -> int:
    return int((amount * rate).to_integral_value(rounding=ROUND_FLOOR))


def order_points(order: OrderFacts, rules: ProgramRules) -> int:
    if not order_counts(order, rules):
        return 0
    return points_for(eligible_amount(order, rules), rules.points_per_currency_unit)


def normalise_tag(tag: str) -> str:
    """Tags compare without case or surrounding spaces, as the store admin shows them."""
    return tag.strip().lower()
