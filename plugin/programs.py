"""Reading and changing a shop's program settings, with a message per bad field."""
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from plugin.models import Program

MAX_RATE = Decimal("1000")
MAX_SIGNUP_BONUS = 1_000_000
MAX_TAGS = 100
MAX_ADJUSTMENT = 1_000_000


class InvalidFields(ValueError):
    """Input that names its bad fields, each with a message (answered as 422)."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("invalid fields")
        self.fields = fields


def program_json(program: Program) -> dict:
    return {
        "points_per_currency_unit": str(program.points_per_currency_unit),
        "signup_bonus": program.signup_bonus,
        "excluded_order_tags": list(program.excluded_order_tags),
        "exclude_gift_cards": program.exclude_gift_cards,
        "award_test_orders": program.award_test_orders,
        "return_points_on_expiry": program.return_points_on_expiry,
        "updated_at": program.updated_at.isoformat(),
    }


def update_program(session: Session, program: Program, changes) -> Program:
    """Apply `changes` (a JSON object) all or nothing; raises InvalidFields naming each bad field."""
    if not isinstance(changes, dict):
        raise InvalidFields({"_body": "must be a JSON object of settings"})
    values, errors = {}, {}
    for name, value in changes.items():
        parse = _PARSERS.get(name)
        if parse is None:
            errors[name] = "is not a program setting"
            continue
        try:
            values[name] = parse(value)
        except ValueError as error:
            errors[name] = str(error)
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
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500 or "\x00" in reason:
        errors["reason"] = "is required: say why, in up to 500 characters"
    if errors:
        raise InvalidFields(errors)
    return points, reason.strip()


def _rate(value) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError("must be a decimal number such as \"1\" or \"0.5\"")
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("must be a decimal number such as \"1\" or \"0.5\"") from None
    if not rate.is_finite() or rate < 0:
        raise ValueError("must be zero or more")
    if rate > MAX_RATE:
        raise ValueError(f"must be at most {MAX_RATE}")
    if rate.as_tuple().exponent < -6:
        raise ValueError("may have at most 6 decimal places")
    return rate


def _signup_bonus(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a whole number of points")
    if not 0 <= value <= MAX_SIGNUP_BONUS:
        raise ValueError(f"must be between 0 and {MAX_SIGNUP_BONUS}")
    return value


def _tags(value) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise ValueError("must be a list of tag names")
    tags = list(dict.fromkeys(tag.strip() for tag in value if tag.strip()))
    if len(tags) > MAX_TAGS or any(len(tag) > 255 or "\x00" in tag for tag in tags):
        raise ValueError(f"at most {MAX_TAGS} tags of up to 255 characters")
    return tags


def _flag(value) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


_PARSERS = {
    "points_per_currency_unit": _rate,
    "signup_bonus": _signup_bonus,
    "excluded_order_tags": _tags,
    "exclude_gift_cards": _flag,
    "award_test_orders": _flag,
    "return_points_on_expiry": _flag,
}
