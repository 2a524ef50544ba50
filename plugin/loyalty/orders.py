"""Orders as the store reports them: the use cases the order webhooks call.

A handler parses its payload and calls one function here per batch; this module decides
what the ledger, tiers, earning rules, redemptions and referrals each do about it, in the
caller's transaction. `shop_context` is what every handler needs of its shop.
"""
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone, tzinfo
from decimal import Decimal

from sqlalchemy.orm import Session

from plugin.db import utcnow
from plugin.loyalty.earning.engine import RefundLine
from plugin.loyalty.earning.rules import OrderFacts, ProgramRules
from plugin.loyalty.earning.strategies import EarningRule
from plugin.loyalty.ledger.orders import RefundFacts, award_points_for_orders, reverse_order_award, reverse_refund
from plugin.loyalty.merges import follow_merges
from plugin.loyalty.programs import program_rules
from plugin.loyalty.referrals.friends import complete_referrals, reverse_cancelled_referral
from plugin.loyalty.rewards.code_usage import mark_codes_used
from plugin.loyalty.rules.definitions import active_rules, price_orders
from plugin.loyalty.shop_facts import business_zone
from plugin.loyalty.shops import get_or_create_shop
from plugin.loyalty.tiers.ordering import OrderTiers


@dataclass(frozen=True)
class ShopContext:
    """What a webhook handler needs of its shop, read once per batch."""

    id: int
    domain: str
    rules: ProgramRules
    signup_bonus: int
    earning_rules: tuple[EarningRule, ...] = ()
    zone: tzinfo = timezone.utc  # business_zone(): where an order's business day is read
    # The program's tier settings, read with it: the tiers need them for every batch of paid orders.
    tier_basis: str = "points_earned"
    tier_window: str = "calendar_year"


def shop_context(session: Session, domain: str) -> ShopContext:
    shop = get_or_create_shop(session, domain)
    return ShopContext(shop.id, shop.domain, program_rules(shop.program), shop.program.signup_bonus,
                       active_rules(session, shop.id), business_zone(shop.iana_timezone),
                       shop.program.tier_basis, shop.program.tier_window)


def orders_paid(session: Session, shop: ShopContext, orders: list[OrderFacts]) -> set[int]:
    """Paid orders of one batch, awarded together; returns the ids of the orders that wait
    for product facts from the platform (nothing of theirs is written).

    Each order is priced under the shop's rules and its member's tier, awarded once, may
    promote its member, marks the loyalty codes it carries used, and may complete the
    referral whose welcome code it used. The subtotal is already net of any loyalty code,
    so a code's value never earns points.
    """
    orders = [replace(order, business_day=business_day(order, shop.zone))
              for order in follow_merges(session, shop.id, orders)]
    tiers = OrderTiers.load(session, shop, orders)
    priced, waiting = price_orders(session, shop, orders, tiers)
    ready = [order for order in orders if order.order_id not in waiting]
    award_points_for_orders(session, shop.id, ready, shop.rules, priced,
                            counted=tiers.counted if tiers is not None else None)
    if tiers is not None:
        tiers.promote(session, shop.id)
    for order in ready:
        mark_codes_used(session, shop.id, list(order.discount_codes), order.order_id)
    complete_referrals(session, shop.id, ready)  # a friend's welcome code pays their referrer
    return set(waiting)


def business_day(order: OrderFacts, zone: tzinfo) -> date:
    """The day an order counts on (tiers, figures): its own time, read in the shop's zone."""
    return (order.business_time or order.paid_at or utcnow()).astimezone(zone).date()


def order_created(session: Session, shop: ShopContext, order_id: int, codes: tuple[str, ...]) -> int:
    """An order exists: the loyalty codes it carries are spent now (its points wait for payment)."""
    return mark_codes_used(session, shop.id, list(codes), order_id)


@dataclass(frozen=True)
class RefundReport:
    """A refund as the store reports it: its lines, and which of them were gift cards."""

    refund_id: int
    order_id: int
    subtotal: Decimal
    gift_card_subtotal: Decimal
    lines: tuple[RefundLine, ...] = ()
    gift_card_lines: frozenset[int] = frozenset()  # indexes into `lines`


def order_refunded(session: Session, shop: ShopContext, refund: RefundReport) -> int:
    """Take back the points of the refunded lines; returns the points taken now.

    Gift cards earn nothing while the program excludes them, so a refunded gift card takes
    nothing back. Lines the order recorded keep what they earned then; today's gift-card
    setting only decides for a line it did not record (and for orders from before lines were
    recorded).
    """
    excluding = shop.rules.exclude_gift_cards
    excluded = refund.gift_card_subtotal if excluding else Decimal(0)
    lines = tuple(replace(line, excluded_gift_card=excluding and index in refund.gift_card_lines)
                  for index, line in enumerate(refund.lines))
    return reverse_refund(session, shop.id, RefundFacts(refund.refund_id, refund.order_id,
                                                       refund.subtotal - excluded, lines))


def order_cancelled(session: Session, shop: ShopContext, order_id: int, cancelled_at: datetime) -> int:
    """The order gives back every point it still holds, and what its referral paid; returns
    the order's points taken now."""
    taken = reverse_order_award(session, shop.id, order_id, cancelled_at)
    reverse_cancelled_referral(session, shop.id, order_id)
    return taken
