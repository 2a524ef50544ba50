"""A shop's tiers: stored, validated field by field (answered as 422 naming the field), listed.

DELETE never removes the row (see plugin/models/tiers.py): the tier stops being listed and
earning, and the next tick moves its members, each with a `tier_changed` event naming it.

`perk_reward_id` names a free-shipping or percentage-off reward the tier's members get
without a code; creating, renaming, changing or deleting the tier marks its perk for the
store (perk_rules.py), which the edge syncs once the change is committed.
"""
import re
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin.db import plain_decimal
from plugin.ids import parse_id
from plugin.loyalty.fields import InvalidFields, decimal_number, parse_each, text
from plugin.loyalty.tiers.ladder import Ladder, TierInfo
from plugin.loyalty.tiers.perk_rules import FAILED, mark_perk_changed, perk_reward
from plugin.models import Program, Tier

MAX_TIERS = 20
MAX_MULTIPLIER = Decimal(100)
MAX_THRESHOLD = Decimal("1e12")
MAX_PERKS = 2000
PRODUCT_GID = re.compile(r"^gid://shopify/Product/(\d{1,19})$")


def list_tiers(session: Session, shop_id: int) -> list[Tier]:
    """The shop's live tiers, lowest threshold first."""
    return sorted(session.scalars(select(Tier).where(Tier.shop_id == shop_id, Tier.live.is_(True))),
                  key=lambda tier: tier.threshold)


def find_tier(session: Session, shop_id: int, tier_id) -> Tier | None:
    number = parse_id(tier_id)
    if number is None:
        return None
    return session.scalar(select(Tier).where(Tier.shop_id == shop_id, Tier.id == number, Tier.live.is_(True)))


def load_ladder(session: Session, shop_id: int, basis: str) -> Ladder:
    """Every tier the shop ever had (deleted ones rank and name the members still holding them)."""
    rows = session.execute(select(Tier.id, Tier.name, Tier.threshold, Tier.multiplier, Tier.product_id, Tier.live)
                           .where(Tier.shop_id == shop_id)).all()
    return Ladder([TierInfo(r.id, r.name, r.threshold, r.multiplier, r.product_id, bool(r.live)) for r in rows], basis)


def create_tier(session: Session, program: Program, fields) -> Tier:
    values = _validated(session, program, fields, None)
    tier = Tier(shop_id=program.shop_id, **{"perks": "", "multiplier": Decimal(1), **values})
    session.add(tier)
    mark_perk_changed(tier)
    _flush_unique(session)
    return tier


def update_tier(session: Session, program: Program, tier: Tier, fields) -> Tier:
    values = _validated(session, program, fields, tier)
    perk_moved = values.get("perk_reward_id", tier.perk_reward_id) != tier.perk_reward_id or \
        values.get("name", tier.name) != tier.name  # the segment follows the tag, which follows the name
    for name, value in values.items():
        setattr(tier, name, value)
    if perk_moved or tier.perk_state == FAILED:  # saving again is how a merchant retries a failure
        mark_perk_changed(tier)
    _flush_unique(session)
    return tier


def _flush_unique(session: Session) -> None:
    """The database has the last word on unique thresholds: two requests that both passed the
    check above (PostgreSQL lets them run at once) get the same 422, never a 500."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise InvalidFields({"threshold": "another tier of this shop has this threshold"}) from None


def delete_tier(session: Session, tier: Tier) -> None:
    tier.live = None  # see plugin/models/tiers.py: frees the threshold, keeps the name
    mark_perk_changed(tier)  # its segment and automatic discount go with it
    session.flush()


def threshold_json(threshold: Decimal, basis: str):
    return int(threshold) if basis == "points_earned" and threshold == threshold.to_integral_value() \
        else str(threshold)


def _validated(session: Session, program: Program, fields, current: Tier | None) -> dict:
    parsers = {**_PARSERS, "threshold": lambda value: parse_threshold(value, program.tier_basis),
               "perk_reward_id": lambda value: perk_reward(session, program.shop_id, value)}
    values, errors = parse_each(fields, parsers, "is not a tier field", "tier fields")
    if current is None:
        for required in ("name", "threshold"):
            if required not in fields:
                errors.setdefault(required, "is required")
    others = [t for t in list_tiers(session, program.shop_id) if current is None or t.id != current.id]
    if "threshold" in values and any(t.threshold == values["threshold"] for t in others):
        errors.setdefault("threshold", "another tier of this shop has this threshold")
    if current is None and len(others) >= MAX_TIERS:
        errors.setdefault("_body", f"a shop may have at most {MAX_TIERS} tiers")
    if errors:
        raise InvalidFields(errors)
    return values


def parse_threshold(value, basis: str) -> Decimal:
    amount = decimal_number(value, "a number of zero or more")
    if amount >= MAX_THRESHOLD or amount.as_tuple().exponent < -6:
        raise ValueError("must be below 1,000,000,000,000 with at most 6 decimal places")
    if basis == "points_earned" and amount != amount.to_integral_value():
        raise ValueError("must be a whole number of points: the program's tier_basis is points_earned")
    return plain_decimal(amount)


def _multiplier(value) -> Decimal:
    # One message for every miss, so "-2" is not told "zero or more" while the rule is 1 to 100.
    rule = f'must be a decimal number from 1 to {MAX_MULTIPLIER}, such as "1.5"'
    try:
        multiplier = decimal_number(value, rule)
    except ValueError:
        raise ValueError(rule) from None
    if not 1 <= multiplier <= MAX_MULTIPLIER:
        raise ValueError(rule)
    if multiplier.as_tuple().exponent < -6:
        raise ValueError("may have at most 6 decimal places")
    return plain_decimal(multiplier)


def _perks(value) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    return text(value, MAX_PERKS, f"must be text of up to {MAX_PERKS} characters")


def _product_id(value) -> int | None:
    if value is None:
        return None
    gid = PRODUCT_GID.match(value) if isinstance(value, str) else None
    number = parse_id(gid.group(1) if gid else value)
    if not number:
        raise ValueError("must be a numeric product id such as \"632910392\" or gid://shopify/Product/632910392")
    return number


_PARSERS = {"name": lambda value: text(value, 255), "multiplier": _multiplier, "perks": _perks,
            "product_id": _product_id}
