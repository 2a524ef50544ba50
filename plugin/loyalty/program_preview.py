"""The settings page's preview: what an order would earn under settings not yet saved.

The points come from the code that awards paid orders (`award` in earning/engine.py, which
the ledger calls, over `eligible_amount` and `order_counts` in earning/rules.py), and the
rate and gift-card flag are read by the parsers a save uses, so the sentence a merchant
reads cannot drift from what customers get, as it could while the panel kept a copy of the
arithmetic in JavaScript. The shop's earning rules (multipliers, bonuses) are left out:
the preview speaks of the base rate the settings page edits. Nothing is read from or
written to the database: the sample order and the settings come in the body.
"""
from decimal import Decimal

from plugin.loyalty.earning.engine import award
from plugin.loyalty.earning.rules import OrderFacts, ProgramRules, eligible_amount
from plugin.loyalty.fields import InvalidFields, decimal_number, parse_each

# The program's own field parsers, not copies: a rate a save refuses, the preview refuses too.
from plugin.loyalty.programs import _PARSERS as PROGRAM_FIELDS

# As large as a stored order amount, NUMERIC(18, 6): with a rate of at most 1000 and six
# places the product keeps 27 digits, inside Decimal's default 28, so no rounding sneaks in.
MAX_AMOUNT = Decimal(10) ** 12
SAMPLE_CUSTOMER = 1  # an order without a customer earns nothing; the preview's always has one


def order_amount(value) -> Decimal:
    """A sample order's amount, as large as a stored one (the earning rules' preview reads prices with it too)."""
    amount = decimal_number(value, "an amount such as \"40.00\"")
    if amount >= MAX_AMOUNT or amount.as_tuple().exponent < -6:
        raise ValueError(f"must be less than {MAX_AMOUNT:,} with at most 6 decimal places")
    return amount


FIELDS = {
    "points_per_currency_unit": PROGRAM_FIELDS["points_per_currency_unit"],
    "exclude_gift_cards": PROGRAM_FIELDS["exclude_gift_cards"],
    "subtotal": order_amount,
    "gift_card_total": order_amount,
}


def preview_earning(body) -> dict:
    """`{"points": int, "eligible": "<decimal>"}` for the sample order and settings in `body`;
    raises InvalidFields naming each missing or bad field."""
    values, errors = parse_each(body, FIELDS, "is not a preview field", "preview fields")
    errors.update({name: "is required" for name in FIELDS if name not in body})
    if errors:
        raise InvalidFields(errors)
    order = OrderFacts(order_id=0, name=None, customer_id=SAMPLE_CUSTOMER, email=None,
                       subtotal=values["subtotal"], gift_card_total=values["gift_card_total"])
    # An untagged, non-test order: tags and test orders decide whether an order counts,
    # which the panel says in words; they never change what a counted order earns.
    rules = ProgramRules(points_per_currency_unit=values["points_per_currency_unit"],
                         excluded_order_tags=frozenset(), exclude_gift_cards=values["exclude_gift_cards"],
                         award_test_orders=False)
    return {"points": award(order, rules).points, "eligible": f"{eligible_amount(order, rules):f}"}
