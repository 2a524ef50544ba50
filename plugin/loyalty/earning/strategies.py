"""Earning rules as small strategies: what a rule matches, and what it does to an order.

A rule is plain data (`EarningRule`). What its `match.field` means is one function in
`MATCHES`, what its `kind` does is one entry in `KINDS`; adding a match field or a kind is
adding one decorated function here and touches nothing else (the API validates against
these registries, the engine calls through them). Text compares without case or
surrounding spaces. Pure: standard library and `decimal` only.
"""
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Callable


@dataclass(frozen=True)
class LineFacts:
    """One order line as the payload gives it (webhooks/handlers/orders_paid.py)."""

    line_id: int | None
    product_id: int | None
    sku: str | None
    vendor: str | None
    quantity: int
    price: Decimal
    discount: Decimal  # the sum of its discount_allocations
    gift_card: bool = False


@dataclass(frozen=True)
class ProductFacts:
    """What the product cache knows of a product (type, tags and collections are not on lines)."""

    product_id: int
    product_type: str | None = None
    vendor: str | None = None
    tags: frozenset[str] = frozenset()
    collection_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class EarningRule:
    id: int
    name: str
    kind: str  # a key of KINDS
    match_field: str  # a key of MATCHES
    match_value: str | None
    multiplier: Decimal | None = None
    points: int | None = None
    per: str | None = None  # "item" or "order", for bonus_points
    min_subtotal: Decimal | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    active: bool = True

    def admits(self, business_time: datetime | None, eligible: Decimal) -> bool:
        """Active, inside [starts_at, ends_at) at the order's business time, and the order big enough."""
        if not self.active:
            return False
        if self.min_subtotal is not None and eligible < self.min_subtotal:
            return False
        if business_time is None:
            return self.starts_at is None and self.ends_at is None
        return (self.starts_at is None or self.starts_at <= business_time) and (
            self.ends_at is None or business_time < self.ends_at)

    def hits(self, line: LineFacts, product: ProductFacts | None) -> bool:
        return MATCHES[self.match_field].hits(line, product, self.match_value)


@dataclass(frozen=True)
class Match:
    hits: Callable[[LineFacts, ProductFacts | None, str | None], bool]
    needs_product: bool  # its facts come from the product cache, not the order line
    value: str  # what `match.value` must be: "none", "text" or "id"


MATCHES: dict[str, Match] = {}


def match(name: str, needs_product: bool = False, value: str = "text"):
    def register(hits):
        MATCHES[name] = Match(hits, needs_product, value)
        return hits
    return register


def same_text(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.strip().lower() == b.strip().lower()


@match("any", value="none")
def _any(line, product, value) -> bool:
    return True


@match("product_id", value="id")
def _product_id(line, product, value) -> bool:
    return line.product_id is not None and str(line.product_id) == value


@match("sku")
def _sku(line, product, value) -> bool:
    return same_text(line.sku, value)


@match("vendor")
def _vendor(line, product, value) -> bool:
    return same_text(line.vendor or (product.vendor if product else None), value)


@match("product_type", needs_product=True)
def _product_type(line, product, value) -> bool:
    return product is not None and same_text(product.product_type, value)


@match("product_tag", needs_product=True)
def _product_tag(line, product, value) -> bool:
    return product is not None and value.strip().lower() in product.tags


@match("collection_id", needs_product=True, value="id")
def _collection_id(line, product, value) -> bool:
    return product is not None and value.isdigit() and int(value) in product.collection_ids


@dataclass(frozen=True)
class Kind:
    """What a kind of rule does: a multiplier for the lines it hits, a bonus, or both."""

    requires: tuple[str, ...]  # the rule fields this kind must have
    multiplier: Callable[[EarningRule], Decimal | None]
    # (points for the order, points per unit of each hit line: what a refund of one unit takes back)
    bonus: Callable[[EarningRule, list[LineFacts]], tuple[int, int]]


KINDS: dict[str, Kind] = {}
BONUS_PER = ("item", "order")


def kind(name: str, requires: tuple[str, ...]):
    def register(cls):
        KINDS[name] = Kind(requires, cls.multiplier, cls.bonus)
        return cls
    return register


@kind("multiplier", requires=("multiplier",))
class _Multiplier:
    @staticmethod
    def multiplier(rule: EarningRule) -> Decimal | None:
        return rule.multiplier

    @staticmethod
    def bonus(rule: EarningRule, hit: list[LineFacts]) -> tuple[int, int]:
        return 0, 0


@kind("bonus_points", requires=("points", "per"))
class _BonusPoints:
    @staticmethod
    def multiplier(rule: EarningRule) -> Decimal | None:
        return None

    @staticmethod
    def bonus(rule: EarningRule, hit: list[LineFacts]) -> tuple[int, int]:
        if rule.per == "item":
            return rule.points * sum(line.quantity for line in hit), rule.points
        # Once per order if any line matches; a campaign (`any`) pays even an order without lines.
        return (rule.points if hit or rule.match_field == "any" else 0), 0
