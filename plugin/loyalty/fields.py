"""Reading the fields of a JSON body, one message per bad field (answered as 422).

Every settings-like input (program, rewards, adjustments, search and period parameters)
is read with these parsers, so a rule such as "text must be storable" is written once.
Each parser returns the clean value or raises ValueError with the message for its field.
"""
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Callable

from plugin.ids import is_unicode_text


class InvalidFields(ValueError):
    """Input that names its bad fields, each with a message (answered as 422)."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("invalid fields")
        self.fields = fields


def parse_each(fields, parsers: dict[str, Callable], unknown: str, what: str) -> tuple[dict, dict]:
    """(values, errors) for a JSON object read field by field with `parsers`."""
    if not isinstance(fields, dict):
        raise InvalidFields({"_body": f"must be a JSON object of {what}"})
    values, errors = {}, {}
    for name, value in fields.items():
        parse = parsers.get(name)
        if parse is None:
            errors[name] = unknown
            continue
        try:
            values[name] = parse(value)
        except ValueError as error:
            errors[name] = str(error)
    return values, errors


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


def decimal_number(value, example: str) -> Decimal:
    """A finite decimal of zero or more, from a string or a JSON number (never via float)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError(f"must be {example}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"must be {example}") from None
    if not number.is_finite() or number < 0:
        raise ValueError("must be zero or more")
    return number


def whole_number(value, low: int, high: int, message: str) -> int:
    """An int (not a bool) from `low` to `high`."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(message)
    return value


def flag(value) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def one_of(value, choices):
    """`value` when it is one of `choices`: a tuple of strings, or an Enum class (then its
    member is returned). Otherwise ValueError naming every choice."""
    if isinstance(choices, type) and issubclass(choices, Enum):
        found = next((member for member in choices if member.value == value), None)
        if found is None:
            raise ValueError("must be one of " + ", ".join(member.value for member in choices))
        return found
    if value not in choices:
        raise ValueError("must be one of " + ", ".join(choices))
    return value
