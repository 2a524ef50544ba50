"""The rewards catalog: what a shop offers for points, validated field by field.

Rewards are never deleted for real: redemptions point at them, so DELETE hides them from
the catalog and stops new redemptions, while past codes keep their history.

A reward the program itself uses (the friends' welcome reward, a tier's perk) cannot be
withdrawn from under it: deactivating it, deleting it or making it a kind that use cannot
take is refused with RewardInUse naming the use, and nothing changes. Every referral link
would otherwise answer that the store offers no welcome reward, and a tier's members would
lose their perk at checkout without anyone deciding it. Any other change to a perk reward
marks its tiers' automatic discounts for an update (plugin/loyalty/tiers/perks.py).

`store_credit` gives no code: its value (money) is credited to the shopper's store credit
account. `free_product` gives a code for one product (`product_id`) at 100 % off.
"""
import re
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from plugin.db import utcnow
from plugin.ids import parse_id
from plugin.loyalty.fields import InvalidFields, decimal_number, flag, one_of, parse_each, text, whole_number
from plugin.loyalty.tiers.perk_rules import PERK_KINDS
from plugin.models import Program, Reward, RewardKind, Tier

DEFAULT_REWARDS = (
    dict(name="5 off your order", kind=RewardKind.AMOUNT_OFF, value=Decimal("5"), points_cost=500),
    dict(name="10% off your order", kind=RewardKind.PERCENTAGE_OFF, value=Decimal("10"), points_cost=1000),
    dict(name="Free shipping", kind=RewardKind.FREE_SHIPPING, value=Decimal("0"), points_cost=400),
)
MAX_POINTS_COST = 10_000_000
MAX_LIFETIME_DAYS = 3650
COMBINES = ("product_discounts", "order_discounts", "shipping_discounts")
# What a referred friend's welcome code can be: a discount on their first order.
FRIEND_REWARD_KINDS = (RewardKind.AMOUNT_OFF, RewardKind.PERCENTAGE_OFF)
# Kinds whose value is money (the rest: a percentage, or nothing).
MONEY_KINDS = (RewardKind.AMOUNT_OFF, RewardKind.STORE_CREDIT)
# Kinds that have no value of their own.
VALUELESS_KINDS = (RewardKind.FREE_SHIPPING, RewardKind.FREE_PRODUCT)
# The program's uses of a reward, by key, and how the merchant is told.
USES = {"referral_welcome": "the friends' welcome reward (Settings, Referrals): choose another one there first",
        "tier_perk": "the perk of the tier {tiers} (Tiers): choose another perk there first"}
# The fields an automatic discount is made from (plugin/loyalty/tiers/perks.py).
OFFER_FIELDS = {"name", "kind", "value", "min_subtotal", "combines_with"}
PRODUCT_GID = re.compile(r"^gid://shopify/Product/(\d{1,19})$")


class RewardInUse(Exception):
    """The change would withdraw a reward the program uses; nothing was changed."""


def add_default_rewards(session: Session, shop_id: int) -> None:
    for reward in DEFAULT_REWARDS:
        session.add(Reward(shop_id=shop_id, **reward))
    session.flush()


def list_rewards(session: Session, shop_id: int) -> list[Reward]:
    return list(session.scalars(select(Reward).where(Reward.shop_id == shop_id, Reward.deleted_at.is_(None))
                                .order_by(Reward.points_cost, Reward.id)))


def find_reward(session: Session, shop_id: int, reward_id, lock: bool = False) -> Reward | None:
    reward_id = parse_id(reward_id)
    if reward_id is None:
        return None
    query = select(Reward).where(Reward.shop_id == shop_id, Reward.id == reward_id, Reward.deleted_at.is_(None))
    return session.scalar(query.with_for_update() if lock else query)


def create_reward(session: Session, shop_id: int, fields) -> Reward:
    values = _validated(fields, creating=True)
    reward = Reward(shop_id=shop_id, **values)
    session.add(reward)
    session.flush()
    return reward


def reward_uses(session: Session, program: Program, reward: Reward) -> list[str]:
    """The program's uses of this reward, as keys of USES."""
    uses = ["referral_welcome"] if program.referral_reward_id == reward.id else []
    return uses + (["tier_perk"] if perk_tier_names(session, reward) else [])


def perk_tier_names(session: Session, reward: Reward) -> list[str]:
    """The live tiers whose perk this reward is."""
    return list(session.scalars(select(Tier.name).where(
        Tier.shop_id == reward.shop_id, Tier.perk_reward_id == reward.id, Tier.live.is_(True)).order_by(Tier.id)))


def update_reward(session: Session, reward: Reward, fields) -> Reward:
    values = _validated(fields, creating=False, current=reward)
    kind = values.get("kind", reward.kind)
    _refuse_if_used(session, reward, withdrawn_from={
        "referral_welcome": values.get("active") is False or kind not in FRIEND_REWARD_KINDS,
        "tier_perk": values.get("active") is False or kind not in PERK_KINDS})
    for name, value in values.items():
        setattr(reward, name, value)
    if set(values) & OFFER_FIELDS:  # the tiers' automatic discounts give what the reward says
        session.execute(update(Tier).where(Tier.shop_id == reward.shop_id, Tier.perk_reward_id == reward.id,
                                           Tier.live.is_(True)).values(perk_state="pending", perk_attempts=0,
                                                                       perk_next_attempt_at=utcnow())
                        .execution_options(synchronize_session=False))
    session.flush()
    return reward


def delete_reward(session: Session, reward: Reward) -> None:
    _refuse_if_used(session, reward, withdrawn_from={use: True for use in USES})
    reward.deleted_at = utcnow()
    reward.active = False
    session.flush()


def _refuse_if_used(session: Session, reward: Reward, withdrawn_from: dict[str, bool]) -> None:
    program = session.scalar(select(Program).where(Program.shop_id == reward.shop_id))
    uses = [use for use in reward_uses(session, program, reward) if withdrawn_from.get(use)]
    if uses:
        tiers = ", ".join(perk_tier_names(session, reward))
        raise RewardInUse(f"this reward is {'; '.join(USES[use].format(tiers=tiers) for use in uses)}")


def _validated(fields, creating: bool, current: Reward | None = None) -> dict:
    values, errors = parse_each(fields, _PARSERS, "is not a reward field", "reward fields")
    if "id" in errors:
        errors["id"] = "cannot be changed"
    if creating:
        for required in ("name", "kind", "points_cost"):
            if required not in fields:
                errors.setdefault(required, "is required")
    kind = values.get("kind", current.kind if current else None)
    if kind is not None and not errors.get("value"):
        value = values.get("value", current.value if current and "kind" not in values else None)
        problem = _value_problem(kind, value)
        if problem:
            errors["value"] = problem
        elif kind in VALUELESS_KINDS:
            values["value"] = Decimal(0)
    if kind is not None and not errors.get("product_id"):
        _check_product(kind, values, current, errors)
    if errors:
        raise InvalidFields(errors)
    return values


def _check_product(kind: RewardKind, values: dict, current: Reward | None, errors: dict) -> None:
    """A free product names its product; no other kind has one (changing kind drops it)."""
    product_id = values.get("product_id", current.product_id if current else None)
    if kind is RewardKind.FREE_PRODUCT and product_id is None:
        errors["product_id"] = "is required for a free product: the product's numeric id or gid"
    elif kind is not RewardKind.FREE_PRODUCT and values.get("product_id") is not None:
        errors["product_id"] = "is only for free_product rewards"
    elif kind is not RewardKind.FREE_PRODUCT and current is not None and current.product_id is not None:
        values["product_id"] = None


def _value_problem(kind: RewardKind, value: Decimal | None) -> str | None:
    if kind in VALUELESS_KINDS:
        return None
    if value is None:
        return "is required for this kind of reward"
    if value <= 0:
        return "must be more than zero"
    if kind is RewardKind.PERCENTAGE_OFF and value > 100:
        return "is a percentage: at most 100"
    return None


def _decimal(value) -> Decimal:
    number = decimal_number(value, "an amount such as \"5.00\"")
    if number.as_tuple().exponent < -2 or number >= Decimal("1e9"):
        raise ValueError("may have at most 2 decimal places and 9 digits")
    return number


def _name(value) -> str:
    return text(value, 255)


def _kind(value) -> RewardKind:
    return one_of(value, RewardKind)


def _points_cost(value) -> int:
    return whole_number(value, 1, MAX_POINTS_COST, f"must be a whole number of points from 1 to {MAX_POINTS_COST}")


def _optional_amount(value) -> Decimal | None:
    return None if value is None else _decimal(value)


def _lifetime(value) -> int | None:
    if value is None:
        return None
    return whole_number(value, 1, MAX_LIFETIME_DAYS, f"must be a whole number of days from 1 to {MAX_LIFETIME_DAYS}, or null")


def _product_id(value) -> int | None:
    if value is None:
        return None
    gid = PRODUCT_GID.match(value) if isinstance(value, str) else None
    number = parse_id(gid.group(1) if gid else value)
    if not number:
        raise ValueError("must be a numeric product id such as \"632910392\" or gid://shopify/Product/632910392")
    return number


def _combines_with(value) -> dict:
    if not isinstance(value, dict) or set(value) - set(COMBINES) or not all(isinstance(v, bool) for v in value.values()):
        raise ValueError("must be an object of " + ", ".join(COMBINES) + " set to true or false")
    return {name: value.get(name, False) for name in COMBINES}


_PARSERS = {
    "name": _name, "kind": _kind, "value": _optional_amount, "points_cost": _points_cost,
    "min_subtotal": _optional_amount, "code_lifetime_days": _lifetime, "combines_with": _combines_with,
    "active": flag, "product_id": _product_id,
}
