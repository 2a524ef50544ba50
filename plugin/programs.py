"""Reading and changing a shop's program settings, with a message per bad field."""
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from plugin.models import Program

MAX_RATE = Decimal("1000")
MAX_SIGNUP_BONUS = 1_000_000
MAX_TAGS = 100


class InvalidSettings(ValueError):
    def __init__(self, fields: dict[str, str]):
        super().__init__("invalid program settings")
        self.fields = fields


def program_json(program: Program) -> dict:
    return {
        "points_per_currency_unit": str(program.points_per_currency_unit),
        "signup_bonus": program.signup_bonus,
        "excluded_order_tags": list(program.excluded_order_tags),
        "exclude_gift_cards": program.exclude_gift_cards,
        "award_test_orders": program.award_test_orders,
        "updated_at": program.updated_at.isoformat(),
    }


def update_program(session: Session, program: Program, changes) -> Program:
    """Apply `changes` (a JSON object) all or nothing; raises InvalidSettings naming each bad field."""
    if not isinstance(changes, dict):
        raise InvalidSettings({"_body": "must be a JSON object of settings"})
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
        raise InvalidSettings(errors)
    for name, value in values.items():
        setattr(program, name, value)
    session.flush()
    return program


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
    if len(tags) > MAX_TAGS or any(len(tag) > 255 for tag in tags):
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
}
