"""The ranking of a shop's tiers against a qualifying total: pure, no database.

Totals and thresholds are compared in whole units: points for `points_earned`, millionths
of the shop's currency for `amount_spent` (how plugin/loyalty/tiers/totals.py keeps money,
so SQLite sums it exactly).
"""
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

BASES = ("points_earned", "amount_spent")
WINDOWS = ("lifetime", "calendar_year", "rolling_12_months")
MICROS = Decimal(1_000_000)


def micros(amount: Decimal) -> int:
    """Money in whole millionths, rounded down (what counts is never more than was paid)."""
    return int((amount * MICROS).to_integral_value(rounding=ROUND_FLOOR))


def units(threshold: Decimal, basis: str) -> int:
    """A threshold in the units totals are kept in; a fractional points threshold rounds up."""
    if basis == "amount_spent":
        return micros(threshold)
    return int(threshold.to_integral_value(rounding=ROUND_CEILING))


def shown(value: int, basis: str):
    """A total as the API shows it: int points, or money as a decimal string."""
    if basis == "amount_spent":
        amount = (Decimal(value) / MICROS).normalize()
        # At least cents ("99.25", "100.00"), more where the currency has them ("1.125").
        return str(amount.quantize(Decimal("0.01")) if amount.as_tuple().exponent > -2 else amount)
    return value


@dataclass(frozen=True)
class TierInfo:
    id: int
    name: str
    threshold: Decimal
    multiplier: Decimal
    product_id: int | None
    live: bool


class Ladder:
    """A shop's tiers (deleted ones too, for their names and ranks) under one basis."""

    def __init__(self, tiers: list[TierInfo], basis: str):
        self.basis = basis
        self.by_id = {tier.id: tier for tier in tiers}
        self.live = sorted((t for t in tiers if t.live), key=lambda t: t.threshold)

    def earned(self, qualifying: int) -> TierInfo | None:
        """The highest live tier whose threshold the total reaches."""
        reached = [t for t in self.live if units(t.threshold, self.basis) <= qualifying]
        return reached[-1] if reached else None

    def rank(self, tier_id: int | None) -> tuple:
        tier = self.by_id.get(tier_id)
        return (0,) if tier is None else (1, tier.threshold)

    def higher(self, a: int | None, b: int | None) -> int | None:
        return a if self.rank(a) >= self.rank(b) else b

    def standing(self, qualifying: int, paid_tier_id: int | None, paid_until: datetime | None,
                 at: datetime) -> int | None:
        """The tier a member should hold: earned, or a paid tier still running, whichever is higher."""
        earned = self.earned(qualifying)
        paid = self.by_id.get(paid_tier_id)
        running = paid is not None and paid.live and paid_until is not None and paid_until > at
        return self.higher(earned.id if earned else None, paid.id if running else None)

    def next_above(self, qualifying: int, tier_id: int | None) -> TierInfo | None:
        """The lowest live tier above both the total and the tier held: the next goal."""
        return next((t for t in self.live if units(t.threshold, self.basis) > qualifying
                     and self.rank(t.id) > self.rank(tier_id)), None)

    def multiplier(self, tier_id: int | None) -> Decimal:
        tier = self.by_id.get(tier_id)
        return tier.multiplier if tier is not None else Decimal(1)

    def name(self, tier_id: int | None) -> str | None:
        tier = self.by_id.get(tier_id)
        return tier.name if tier is not None else None

    def paid_tier_for(self, product_ids) -> TierInfo | None:
        """The highest live paid tier whose product is among these."""
        bought = [t for t in self.live if t.product_id is not None and t.product_id in product_ids]
        return bought[-1] if bought else None
