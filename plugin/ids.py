"""Reading the platform's numeric ids (and our own) from URLs, forms and payloads.

`str.isdigit` is not enough: it accepts "²" and other Unicode digits that `int` refuses,
and a 64-bit column refuses numbers past 2**63 - 1. Both used to surface as 500s.
"""
MAX_ID = 2**63 - 1


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
