"""A shop's earning rules: stored, validated field by field, and read as strategies.

The rules themselves (what a match field means, what a kind does) live in the pure
plugin/loyalty/earning/strategies.py; this module keeps them per shop and checks what the
merchant sends against those registries, so a new match field or kind needs no change
here. DELETE deactivates: the rule stays listed, for the entries it explains.

An active rule identical in effect to another active one (same kind, match, numbers and
window; the name does not count) is refused with DuplicateRule: two would stack their
bonuses, which no merchant means. The shop's row is locked while rules are checked and
written, so two identical rules sent at once cannot both pass.
"""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.ids import parse_id
from plugin.loyalty.earning.engine import Award, award
from plugin.loyalty.earning.rules import OrderFacts, ProgramRules, order_counts
from plugin.loyalty.earning.strategies import BONUS_PER, KINDS, MATCHES, EarningRule
from plugin.loyalty.fields import InvalidFields, decimal_number, flag, one_of, parse_each, text, whole_number
from plugin.loyalty.rules.product_cache import (
    ProductFactsMissing,
    facts_for_pricing,
    needs_collections,
    needs_product_facts,
)
from plugin.models import EarningRuleRecord, Shop

MAX_MULTIPLIER = Decimal(100)
MAX_BONUS = 1_000_000
# Fields that belong to one kind only.
KIND_FIELDS = {"multiplier", "points", "per"}


def list_rules(session: Session, shop_id: int) -> list[EarningRuleRecord]:
    return list(session.scalars(select(EarningRuleRecord).where(EarningRuleRecord.shop_id == shop_id)
                                .order_by(EarningRuleRecord.id)))


def find_rule(session: Session, shop_id: int, rule_id) -> EarningRuleRecord | None:
    number = parse_id(rule_id)
    if number is None:
        return None
    return session.scalar(select(EarningRuleRecord).where(EarningRuleRecord.shop_id == shop_id,
                                                          EarningRuleRecord.id == number))


def active_rules(session: Session, shop_id: int) -> tuple[EarningRule, ...]:
    """The shop's active rules as the engine reads them."""
    records = session.scalars(select(EarningRuleRecord).where(EarningRuleRecord.shop_id == shop_id,
                                                              EarningRuleRecord.active.is_(True)))
    return tuple(strategy(record) for record in records)


def strategy(record: EarningRuleRecord) -> EarningRule:
    return EarningRule(id=record.id, name=record.name, kind=record.kind, match_field=record.match_field,
                       match_value=record.match_value, multiplier=record.multiplier, points=record.points,
                       per=record.per, min_subtotal=record.min_subtotal, starts_at=record.starts_at,
                       ends_at=record.ends_at, active=record.active)


# What a rule does; two active rules alike in all of these would count twice.
EFFECT = ("kind", "match_field", "match_value", "multiplier", "points", "per", "min_subtotal", "starts_at", "ends_at")


class DuplicateRule(Exception):
    """An active rule already does exactly this; `rule_id` names it. Nothing was written."""

    def __init__(self, rule_id: int):
        super().__init__(f"an active rule (id {rule_id}) already does exactly this: edit that one instead")
        self.rule_id = rule_id


def create_rule(session: Session, shop_id: int, fields) -> EarningRuleRecord:
    values = _validated(fields, None)
    _refuse_duplicate(session, shop_id, {"active": True, **values}, None)
    record = EarningRuleRecord(shop_id=shop_id, **values)
    session.add(record)
    session.flush()
    return record


def update_rule(session: Session, record: EarningRuleRecord, fields) -> EarningRuleRecord:
    values = _validated(fields, record)
    _refuse_duplicate(session, record.shop_id, {**_columns(record), **values}, record.id)
    for name, value in values.items():
        setattr(record, name, value)
    session.flush()
    return record


def _refuse_duplicate(session: Session, shop_id: int, rule: dict, own_id: int | None) -> None:
    if not rule.get("active", True):
        return
    session.execute(select(Shop.id).where(Shop.id == shop_id).with_for_update())
    others = session.scalars(select(EarningRuleRecord).where(
        EarningRuleRecord.shop_id == shop_id, EarningRuleRecord.active.is_(True), EarningRuleRecord.id != own_id))
    for other in others:
        if all(_alike(getattr(other, name), rule.get(name)) for name in EFFECT):
            raise DuplicateRule(other.id)


def _alike(a, b) -> bool:
    """Equal as the engine reads them: text without case or surrounding spaces, numbers by value."""
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().lower() == b.strip().lower()
    return a == b


def deactivate_rule(session: Session, record: EarningRuleRecord) -> None:
    record.active = False
    session.flush()


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _validated(fields, current: EarningRuleRecord | None) -> dict:
    """The columns to write; InvalidFields names every bad field. The merged rule (current
    values with the changes) must make sense as a whole: its kind's fields and no others."""
    values, errors = parse_each(fields, _PARSERS, "is not an earning rule field", "earning rule fields")
    if "match" in values:
        values["match_field"], values["match_value"] = values.pop("match")
    merged = {**(_columns(current) if current else {}), **values}
    if current is None:
        for required in ("name", "kind", "match"):
            if required not in fields:
                errors.setdefault(required, "is required")
    kind = merged.get("kind")
    if kind in KINDS and not errors.get("kind"):
        _check_kind_fields(kind, merged, values, errors)
    _check_window(merged, errors)
    if errors:
        raise InvalidFields(errors)
    return values


def _check_kind_fields(kind: str, merged: dict, values: dict, errors: dict) -> None:
    required = KINDS[kind].requires
    for name in required:
        if merged.get(name) is None:
            errors.setdefault(name, f"is required for a {kind} rule")
    for name in KIND_FIELDS - set(required):
        if values.get(name) is not None:
            errors.setdefault(name, f"does not apply to a {kind} rule")
        elif "kind" in values:
            values[name] = None  # a rule that changes kind drops the other kind's fields


def _check_window(merged: dict, errors: dict) -> None:
    starts, ends = merged.get("starts_at"), merged.get("ends_at")
    if starts is not None and ends is not None and ends <= starts and "ends_at" not in errors:
        errors["ends_at"] = "must be after starts_at"


def _columns(record: EarningRuleRecord) -> dict:
    return {name: getattr(record, name) for name in (
        "name", "kind", "match_field", "match_value", "multiplier", "points", "per", "min_subtotal",
        "starts_at", "ends_at", "active")}


def _kind(value) -> str:
    return one_of(value, tuple(KINDS))


def _match(value) -> tuple[str, str | None]:
    if not isinstance(value, dict) or set(value) - {"field", "value"}:
        raise ValueError('must be an object {"field": ..., "value": ...}')
    field, given = value.get("field"), value.get("value")
    if field not in MATCHES:
        raise ValueError("field must be one of " + ", ".join(MATCHES))
    expects = MATCHES[field].value
    if expects == "none":
        if given is not None:
            raise ValueError(f"value must be omitted or null for {field}")
        return field, None
    if expects == "id":
        number = parse_id(given if not isinstance(given, bool) else None)
        if number is None:
            raise ValueError(f"value must be a numeric {field.replace('_', ' ')}")
        return field, str(number)
    try:
        return field, text(given, 255, f"value is required for {field}: up to 255 characters")
    except ValueError as problem:
        raise ValueError(str(problem)) from None


def _multiplier(value) -> Decimal | None:
    if value is None:
        return None
    multiplier = decimal_number(value, 'a decimal number such as "2" or "1.5"')
    if not 0 < multiplier <= MAX_MULTIPLIER:
        raise ValueError(f"must be more than 0 and at most {MAX_MULTIPLIER}")
    if multiplier.as_tuple().exponent < -6:
        raise ValueError("may have at most 6 decimal places")
    return multiplier


def _points(value) -> int | None:
    return None if value is None else whole_number(value, 1, MAX_BONUS, f"must be a whole number from 1 to {MAX_BONUS}")


def _per(value) -> str | None:
    return None if value is None else one_of(value, tuple(BONUS_PER))


def _min_subtotal(value) -> Decimal | None:
    if value is None:
        return None
    amount = decimal_number(value, 'an amount such as "100.00"')
    if amount >= Decimal("1e12") or amount.as_tuple().exponent < -6:
        raise ValueError("must be an amount below 1,000,000,000,000 with at most 6 decimal places")
    return amount


def _moment(value) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 time such as 2026-12-01T00:00:00Z, or null")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("must be an ISO 8601 time such as 2026-12-01T00:00:00Z, or null") from None
    if moment.tzinfo is None:
        raise ValueError("must say its time zone (Z or an offset such as +02:00)")
    return moment


_PARSERS = {
    "name": lambda value: text(value, 255), "kind": _kind, "match": _match, "multiplier": _multiplier,
    "points": _points, "per": _per, "min_subtotal": _min_subtotal, "starts_at": _moment, "ends_at": _moment,
    "active": flag,
}


def price_orders(session: Session, shop, orders: list[OrderFacts], tiers=None) -> tuple[dict[int, Award], set[int]]:
    """What each order earns under the shop's active rules (`shop` is a ShopContext), and the
    orders that must wait.

    The product cache is read only when a rule matches on product facts; then every product
    an order names must be cached and fresh, or that order waits (the look-up pass,
    webhooks/products.py, fills the cache outside any transaction): an order never earns at
    a guessed rate, and the others of its batch are not held back by it.

    An order that cannot earn (no customer, a test order, an excluded tag, cancelled), and a
    gift-card line while gift cards are excluded, need no product facts: they never wait.

    `tiers` (plugin/loyalty/tiers/ordering.py OrderTiers) gives each order its tier multiplier
    and counts it, in arrival order, so an order can promote its member for the next one."""
    products, waiting = {}, set()
    if needs_product_facts(shop.earning_rules):
        wanted = {product for order in orders for product in products_wanted(order, shop.rules)}
        try:
            if wanted:
                products = facts_for_pricing(session, shop.id, wanted, needs_collections(shop.earning_rules))
        except ProductFactsMissing as missing:
            products = missing.usable
            waiting = {order.order_id for order in orders
                       if products_wanted(order, shop.rules) & missing.product_ids}
    priced = {}
    for order in orders:
        if order.order_id in waiting:
            continue
        if tiers is None:
            priced[order.order_id] = award(order, shop.rules, shop.earning_rules, products)
            continue
        priced[order.order_id] = award(order, shop.rules, shop.earning_rules, products, tiers.multiplier(order),
                                       tiers.label(order))
        tiers.count(order, priced[order.order_id])
    return priced, waiting


def products_wanted(order: OrderFacts, rules: ProgramRules) -> set[int]:
    """The products whose facts pricing this order needs, if a rule matches on product facts:
    none for an order that cannot earn, none for a gift card while gift cards earn nothing."""
    if not order_counts(order, rules):
        return set()
    return {line.product_id for line in order.lines
            if line.product_id is not None and not (line.gift_card and rules.exclude_gift_cards)}
