"""The rewards catalog: what a shop offers for points, validated field by field.

Rewards are never deleted for real: redemptions point at them, so DELETE hides them from
the catalog and stops new redemptions, while past codes keep their history.

A reward the program itself uses (today: the friends' welcome reward) cannot be withdrawn
from under it: deactivating it, deleting it or making it a kind that use cannot take is
refused with RewardInUse naming the use, and nothing changes. Every referral link would
otherwise answer that the store offers no welcome reward.
"""
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.db import utcnow
from plugin.ids import parse_id
from plugin.loyalty.fields import InvalidFields, decimal_number, flag, one_of, parse_each, text, whole_number
from plugin.models import Program, Reward, RewardKind

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
# The program's uses of a reward, by key, and how the merchant is told.
USES = {"referral_welcome": "the friends' welcome reward (Settings, Referrals): choose another one there first"}


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


def reward_uses(program: Program, reward: Reward) -> list[str]:
    """The program's uses of this reward, as keys of USES."""
    return ["referral_welcome"] if program.referral_reward_id == reward.id else []


def update_reward(session: Session, reward: Reward, fields) -> Reward:
    values = _validated(fields, creating=False, current=reward)
    withdrawn = values.get("active") is False or values.get("kind", reward.kind) not in FRIEND_REWARD_KINDS
    _refuse_if_used(session, reward, withdrawn)
    for name, value in values.items():
        setattr(reward, name, value)
    session.flush()
    return reward


def delete_reward(session: Session, reward: Reward) -> None:
    _refuse_if_used(session, reward, withdrawn=True)
    reward.deleted_at = utcnow()
    reward.active = False
    session.flush()


def _refuse_if_used(session: Session, reward: Reward, withdrawn: bool) -> None:
    if not withdrawn:
        return
    program = session.scalar(select(Program).where(Program.shop_id == reward.shop_id))
    uses = reward_uses(program, reward)
    if uses:
        raise RewardInUse(f"this reward is {'; '.join(USES[use] for use in uses)}")


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
        elif kind is RewardKind.FREE_SHIPPING:
            values["value"] = Decimal(0)
    if errors:
        raise InvalidFields(errors)
    return values


def _value_problem(kind: RewardKind, value: Decimal | None) -> str | None:
    if kind is RewardKind.FREE_SHIPPING:
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


def _combines_with(value) -> dict:
    if not isinstance(value, dict) or set(value) - set(COMBINES) or not all(isinstance(v, bool) for v in value.values()):
        raise ValueError("must be an object of " + ", ".join(COMBINES) + " set to true or false")
    return {name: value.get(name, False) for name in COMBINES}


_PARSERS = {
    "name": _name, "kind": _kind, "value": _optional_amount, "points_cost": _points_cost,
    "min_subtotal": _optional_amount, "code_lifetime_days": _lifetime, "combines_with": _combines_with,
    "active": flag,
}
