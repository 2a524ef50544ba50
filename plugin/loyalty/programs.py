"""Reading and changing a shop's program settings, with a message per bad field (plugin/loyalty/fields.py)."""
from decimal import Decimal

from sqlalchemy.orm import Session

from plugin.loyalty.fields import InvalidFields, decimal_number, flag, parse_each, text, whole_number
from plugin.loyalty.tiers.ladder import BASES, WINDOWS
from plugin.models import Program

MAX_RATE = Decimal("1000")
MAX_SIGNUP_BONUS = 1_000_000
MAX_TAGS = 100
MAX_ADJUSTMENT = 1_000_000


def program_json(program: Program) -> dict:
    return {
        "points_per_currency_unit": str(program.points_per_currency_unit),
        "signup_bonus": program.signup_bonus,
        "excluded_order_tags": list(program.excluded_order_tags),
        "exclude_gift_cards": program.exclude_gift_cards,
        "award_test_orders": program.award_test_orders,
        "return_points_on_expiry": program.return_points_on_expiry,
        "tier_basis": program.tier_basis,
        "tier_window": program.tier_window,
        "updated_at": program.updated_at.isoformat(),
    }


def update_program(session: Session, program: Program, changes) -> Program:
    """Apply `changes` (a JSON object) all or nothing; raises InvalidFields naming each bad field."""
    values, errors = parse_each(changes, _PARSERS, "is not a program setting", "settings")
    if errors:
        raise InvalidFields(errors)
    for name, value in values.items():
        setattr(program, name, value)
    session.flush()
    return program


def parse_adjustment(body) -> tuple[int, str]:
    """`{"points": int, "reason": str}` for a manual change; InvalidFields names bad fields."""
    if not isinstance(body, dict):
        raise InvalidFields({"_body": "must be a JSON object with points and reason"})
    errors = {}
    points, reason = body.get("points"), body.get("reason")
    if isinstance(points, bool) or not isinstance(points, int) or points == 0 or abs(points) > MAX_ADJUSTMENT:
        errors["points"] = f"must be a whole number of points, not 0, at most {MAX_ADJUSTMENT} either way"
    try:
        reason = text(reason, 500, "is required: say why, in up to 500 characters")
    except ValueError as problem:
        errors["reason"] = str(problem)
    if errors:
        raise InvalidFields(errors)
    return points, reason


def _rate(value) -> Decimal:
    rate = decimal_number(value, "a decimal number such as \"1\" or \"0.5\"")
    if rate > MAX_RATE:
        raise ValueError(f"must be at most {MAX_RATE}")
    if rate.as_tuple().exponent < -6:
        raise ValueError("may have at most 6 decimal places")
    return rate


def one_of(value, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError("must be one of " + ", ".join(choices))
    return value


def _signup_bonus(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a whole number of points")
    return whole_number(value, 0, MAX_SIGNUP_BONUS, f"must be between 0 and {MAX_SIGNUP_BONUS}")


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
    "tier_basis": lambda value: one_of(value, BASES),
    "tier_window": lambda value: one_of(value, WINDOWS),
}
