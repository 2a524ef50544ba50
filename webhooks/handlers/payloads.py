"""Reading platform payloads: required fields, ids, money and times, with clear errors.

Money may come as a string ("19.99") or, in refund lines, as a JSON number; bodies are
parsed with `parse_float=Decimal` so neither ever passes through a float. Where a `*_set`
twin exists, its `shop_money` is preferred: points are counted in the shop's currency.

Whatever would fail the same way on every try raises PayloadError here, so the event fails
at once with a readable error instead of being retried for a quarter of an hour and
dragging its batch into one-by-one processing: JSON nested too deep to parse, a lone
surrogate (no UTF-8 column can store it), money that NUMERIC(18, 6) cannot hold.

An error names the field and the type it expects, never the value it found: the values are
the customer's (an email sent where an id belongs), and errors are stored and logged.
"""
import json
import re
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from plugin.ids import is_unicode_text, json_items, parse_id
from plugin.loyalty.bounds import MAX_QUANTITY

# NUMERIC(18, 6), the type of every stored amount: 12 digits before the point, 6 after.
MAX_AMOUNT = Decimal(10) ** 12
MILLIONTH = Decimal("0.000001")
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class PayloadError(ValueError):
    """The payload cannot be processed as sent; retrying it would fail the same way."""


def parse_body(raw: str) -> dict:
    """The payload as a dict. This runs for every webhook, so the checks cost next to nothing
    on an ordinary body: nesting is bounded by the parser's own recursion limit (a body past
    it raises RecursionError), and the walk for lone surrogates happens only when the raw
    text holds a \\ud800-\\udfff escape at all (emoji arrive as UTF-8, not as escapes)."""
    try:
        payload = json.loads(raw, parse_float=Decimal)
    except RecursionError:
        raise PayloadError("payload is refused: JSON nested too deeply to read") from None
    except ValueError as error:
        raise PayloadError(f"payload is not valid JSON: {error}") from None
    if not isinstance(payload, dict):
        raise PayloadError("payload must be a JSON object")
    if SURROGATE_ESCAPE.search(raw) and not all(
            is_unicode_text(item) for _, item in json_items(payload) if isinstance(item, str)):
        raise PayloadError("payload holds a lone surrogate (an unpaired \\ud800-\\udfff escape), "
                           "which is not text any database column can store")
    return payload


def required(payload: dict, key: str):
    if payload.get(key) is None:
        raise PayloadError(f"payload lacks the required field '{key}'")
    return payload[key]


def platform_id(value, field: str) -> int:
    number = parse_id(value)
    if number is None:
        raise PayloadError(f"'{field}' must be a numeric id")
    return number


def money(value, field: str) -> Decimal:
    """An amount NUMERIC(18, 6) can store: below 10**12 either way once rounded to 6 places."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise PayloadError(f"'{field}' must be an amount (a decimal string or number)")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise PayloadError(f"'{field}' must be an amount (a decimal string or number)") from None
    if not amount.is_finite():
        raise PayloadError(f"'{field}' must be a finite amount")
    # Rounded as the column will round it; that also keeps out exponents such as 1e-99999999,
    # which PostgreSQL refuses. copy_abs, not abs(): abs() overflows on "1e999999999".
    if amount.copy_abs() < MAX_AMOUNT and amount.as_tuple().exponent < -6:
        amount = amount.quantize(MILLIONTH, ROUND_HALF_UP)
    if amount.copy_abs() >= MAX_AMOUNT:
        raise PayloadError(f"'{field}' must be less than {MAX_AMOUNT:,} either way")
    return amount


def quantity(value, field: str) -> int:
    """A line's quantity: a whole number up to MAX_QUANTITY (plugin/loyalty/bounds.py says why);
    below zero counts as zero and a fraction is cut, as the platform never sends either."""
    rule = f"'{field}' must be a whole number from 0 to {MAX_QUANTITY:,}"
    try:
        number = money(value, field)
    except PayloadError:
        raise PayloadError(rule) from None
    if number > MAX_QUANTITY:
        raise PayloadError(rule)
    return max(int(number), 0)


def shop_money(payload: dict, field: str, required_field: bool = True) -> Decimal:
    """`payload[field + "_set"].shop_money.amount` if present, else `payload[field]`."""
    twin = payload.get(f"{field}_set")
    if isinstance(twin, dict) and isinstance(twin.get("shop_money"), dict):
        return money(twin["shop_money"].get("amount"), f"{field}_set.shop_money.amount")
    if payload.get(field) is None and not required_field:
        return Decimal(0)
    return money(required(payload, field), field)


def timestamp(value, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise PayloadError(f"'{field}' must be an ISO 8601 time") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def optional_text(value, limit: int = 255) -> str | None:
    # NUL ("\u0000" in JSON) is not storable in PostgreSQL text; it never belongs in a name.
    text = str(value).replace("\x00", "") if value is not None else ""
    return text[:limit] or None


def customer_id(payload: dict) -> int | None:
    customer = payload.get("customer")
    if customer is None:
        return None
    if not isinstance(customer, dict):
        raise PayloadError("'customer' must be an object or null")
    return platform_id(required(customer, "id"), "customer.id")


def items(payload: dict, field: str) -> list[dict]:
    value = payload.get(field) or []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise PayloadError(f"'{field}' must be a list of objects")
    return value


def id_list(payload: dict, field: str) -> tuple[int, ...]:
    """A list of platform ids (compliance payloads' `orders_requested`, `orders_to_redact`)."""
    value = payload.get(field) or []
    if not isinstance(value, list):
        raise PayloadError(f"'{field}' must be a list of ids")
    return tuple(platform_id(item, field) for item in value)


def compliance_customer(payload: dict) -> int:
    """The customer a compliance webhook concerns: `customer.id`, which it must have."""
    found = customer_id(payload)
    if found is None:
        raise PayloadError("payload lacks the required field 'customer'")
    return found


def named_shop(payload: dict) -> str | None:
    """The `shop_domain` a compliance body names: signed, unlike the domain header."""
    value = payload.get("shop_domain")
    return str(value).strip().lower() or None if value is not None else None
