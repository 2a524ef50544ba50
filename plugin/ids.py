"""Reading untrusted input: numeric ids, JSON bodies and text, from URLs, forms and payloads.

`str.isdigit` is not enough: it accepts "²" and other Unicode digits that `int` refuses,
and a 64-bit column refuses numbers past 2**63 - 1. Both used to surface as 500s.

JSON is valid with any nesting and with "\\ud800" (a lone surrogate, half of a character),
but neither can go much further: the parser recurses once per level and raises
RecursionError near Python's limit, and no UTF-8 database column accepts the half
character. Both used to surface as 500s from the admin API and as webhooks retried for a
quarter of an hour. So every body, admin or webhook, is read by `load_json`, which bounds
the nesting; text is checked with `is_unicode_text` where it is read: by the admin API's
field parsers (a 422 naming the field) and for a whole webhook payload (payloads.py).
"""
import json
from decimal import Decimal

MAX_ID = 2**63 - 1
# Platform payloads nest about eight levels (order > line item > price set > money);
# a depth far past that is an attack or a bug, not an order.
MAX_JSON_DEPTH = 64


class JSONTooDeep(ValueError):
    """JSON nested past MAX_JSON_DEPTH: refused before any code walks it recursively."""

    def __init__(self):
        super().__init__(f"JSON nested more than {MAX_JSON_DEPTH} levels deep")


def parse_id(value) -> int | None:
    """The id as an int, or None when the value is not a plain number that fits 64 bits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
    else:
        return None
    return number if 0 <= number <= MAX_ID else None


def load_json(raw: str | bytes):
    """The JSON value, numbers kept exact (floats as Decimal), nested at most MAX_JSON_DEPTH.

    Raises ValueError: JSONTooDeep for nesting, UnicodeDecodeError for bytes that are not
    UTF-8, a plain ValueError for text that is not JSON.
    """
    try:
        value = json.loads(raw, parse_float=Decimal)
    except RecursionError:
        raise JSONTooDeep() from None
    if any(depth > MAX_JSON_DEPTH and isinstance(item, (dict, list)) for depth, item in json_items(value)):
        raise JSONTooDeep()
    return value


def json_items(value):
    """(depth, item) for a parsed JSON value and everything in it, keys too, without recursion."""
    stack = [(1, value)]
    while stack:
        depth, item = stack.pop()
        yield depth, item
        if isinstance(item, dict):
            stack.extend((depth + 1, key) for key in item)
            stack.extend((depth + 1, child) for child in item.values())
        elif isinstance(item, list):
            stack.extend((depth + 1, child) for child in item)


def is_unicode_text(text: str) -> bool:
    """False when `text` holds a lone surrogate, which no UTF-8 database or encoder accepts."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
