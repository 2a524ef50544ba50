"""Reading and changing a shop's program settings, with a message per bad field."""
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from plugin.ids import is_unicode_text
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
    try:
        reason = text(reason, 500, "is required: say why, in up to 500 characters")
    except ValueError as problem:
        errors["reason"] = str(problem)
    if errors:
        raise InvalidFields(errors)
    return points, reason


def text(value, limit: int, required: str | None = None) -> str:
    """A text field without its surrounding spaces: not empty, at most `limit` characters, and
    storable. PostgreSQL text cannot hold NUL, nor any UTF-8 column a lone surrogate ("\\ud800"
    is valid JSON, but half a character); either used to fail the INSERT with a 500."""
    stripped = value.strip() if isinstance(value, str) else ""
    if not stripped or len(stripped) > limit:
        raise ValueError(required or f"is required: up to {limit} characters")
    if "\x00" in stripped or not is_unicode_text(stripped):
        raise ValueError("must be text without NUL characters or unpaired surrogates (\\ud800-\\udfff)")
    return stripped


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
    too_long = f"at most {MAX_TAGS} tags of up to 255 characters"
    tags = list(dict.fromkeys(text(tag, 255, too_long) for tag in value if tag.strip()))
    if len(tags) > MAX_TAGS:
        raise ValueError(too_long)
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
