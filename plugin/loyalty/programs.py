"""Reading and changing a shop's program settings, with a message per bad field (plugin/loyalty/fields.py)."""
from decimal import Decimal

from sqlalchemy.orm import Session

from plugin.loyalty.earning.rules import ProgramRules, normalise_tag
from plugin.loyalty.fields import InvalidFields, decimal_number, flag, one_of, parse_each, text, whole_number
from plugin.loyalty.referrals.friends import friend_reward_problem
from plugin.loyalty.tiers.ladder import BASES, WINDOWS
from plugin.models import Program

MAX_RATE = Decimal("1000")
MAX_SIGNUP_BONUS = 1_000_000
MAX_TAGS = 100
MAX_DAYS = 365
MAX_EXPIRY_MONTHS = 120
EXPIRY_POLICIES = ("never", "inactivity", "fifo")
_LIFECYCLE = ("pending_days", "expiry_policy", "expiry_months", "expiry_reminder_days")


def update_program(session: Session, program: Program, changes) -> Program:
    """Apply `changes` (a JSON object) all or nothing; raises InvalidFields naming each bad field."""
    values, errors = parse_each(changes, _PARSERS, "is not a program setting", "settings")
    if values.get("referral_reward_id") is not None:  # one of this shop's rewards a friend may get
        errors.update(friend_reward_problem(session, program.shop_id, values["referral_reward_id"]))
    if errors:
        raise InvalidFields(errors)
    _check_lifecycle({name: values.get(name, getattr(program, name)) for name in _LIFECYCLE})
    for name, value in values.items():
        setattr(program, name, value)
    session.flush()
    return program


def _check_lifecycle(settings: dict) -> None:
    """The lifecycle settings as they would be after the change, taken together."""
    errors = {}
    if settings["expiry_policy"] != "never" and settings["expiry_months"] is None:
        errors["expiry_months"] = f"is required when expiry_policy is {settings['expiry_policy']}: 1 to {MAX_EXPIRY_MONTHS}"
    elif settings["expiry_policy"] != "never" and settings["pending_days"] >= 28 * settings["expiry_months"]:
        # Pending points could expire before they were ever spendable.
        errors["pending_days"] = (f"must be less than {28 * settings['expiry_months']} days with points expiring "
                                  f"after {settings['expiry_months']} months")
    if errors:
        raise InvalidFields(errors)


def _expiry_months(value) -> int | None:
    if value is None:
        return None
    return whole_number(value, 1, MAX_EXPIRY_MONTHS, f"must be a whole number of months from 1 to {MAX_EXPIRY_MONTHS}, "
                                                     "or null")


def _days(value) -> int:
    return whole_number(value, 0, MAX_DAYS, f"must be a whole number of days from 0 to {MAX_DAYS}")


def _rate(value) -> Decimal:
    rate = decimal_number(value, "a decimal number such as \"1\" or \"0.5\"")
    if rate > MAX_RATE:
        raise ValueError(f"must be at most {MAX_RATE}")
    if rate.as_tuple().exponent < -6:
        raise ValueError("may have at most 6 decimal places")
    return rate


def _signup_bonus(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a whole number of points")
    return whole_number(value, 0, MAX_SIGNUP_BONUS, f"must be between 0 and {MAX_SIGNUP_BONUS}")


def _bonus_points(value) -> int:
    """Referral points and the birthday bonus: whole points, 0 (off) up to the signup bonus's bound."""
    return whole_number(value, 0, MAX_SIGNUP_BONUS, f"must be a whole number of points from 0 to {MAX_SIGNUP_BONUS}")


def _reward_id(value) -> int | None:
    if value is None:
        return None
    return whole_number(value, 1, 2**63 - 1, "must be the id of an amount_off or percentage_off reward, or null")


def _tags(value) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise ValueError("must be a list of tag names")
    too_long = f"at most {MAX_TAGS} tags of up to 255 characters"
    tags = list(dict.fromkeys(text(tag, 255, too_long) for tag in value if tag.strip()))
    if len(tags) > MAX_TAGS:
        raise ValueError(too_long)
    return tags


_PARSERS = {
    "points_per_currency_unit": _rate,
    "signup_bonus": _signup_bonus,
    "excluded_order_tags": _tags,
    "exclude_gift_cards": flag,
    "award_test_orders": flag,
    "return_points_on_expiry": flag,
    "pending_days": _days,
    "expiry_policy": lambda value: one_of(value, EXPIRY_POLICIES),
    "expiry_months": _expiry_months,
    "expiry_reminder_days": _days,
    "referral_points": _bonus_points,
    "referral_reward_id": _reward_id,
    "birthday_bonus": _bonus_points,
    "store_sync_enabled": flag,
    "tier_basis": lambda value: one_of(value, BASES),
    "tier_window": lambda value: one_of(value, WINDOWS),
}


def program_rules(program: Program) -> ProgramRules:
    return ProgramRules(
        points_per_currency_unit=program.points_per_currency_unit,
        excluded_order_tags=frozenset(normalise_tag(t) for t in program.excluded_order_tags),
        exclude_gift_cards=program.exclude_gift_cards,
        award_test_orders=program.award_test_orders,
        pending_days=program.pending_days,
    )
