"""What a liability statement is asked for: `from`, `to`, `by` and `format`, each checked.

Days are the shop's (its zone); `to` defaults to its today, `from` to 30 days ending on `to`.
A statement by day covers at most 366 days, by month at most ten years: each row costs the
same either way, and a month row is what a longer history is read in.
"""
import re
from dataclasses import dataclass
from datetime import date, timedelta

from plugin.loyalty.fields import InvalidFields, one_of

DEFAULT_DAYS = 30
MAX_DAYS = {"day": 366, "month": 3660}
EARLIEST = date(1970, 1, 1)
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Asked:
    first: date
    last: date
    by: str = "day"
    format: str = "json"


def parse_asked(args, today: date) -> Asked:
    """The statement `args` (a mapping of query parameters) ask for; InvalidFields otherwise."""
    errors, values = {}, {}
    for name, choices, default in (("by", tuple(MAX_DAYS), "day"), ("format", ("json", "csv"), "json")):
        try:
            values[name] = one_of(args.get(name, default), choices)
        except ValueError as error:
            errors[name] = str(error)
    last = _day(args.get("to"), "to", errors) if args.get("to") is not None else today
    first = _day(args.get("from"), "from", errors) if args.get("from") is not None else None
    if errors:
        raise InvalidFields(errors)
    first = first or max(last - timedelta(days=DEFAULT_DAYS - 1), EARLIEST)
    if first > last:
        raise InvalidFields({"from": f"must be on or before to ({last.isoformat()})"})
    longest = MAX_DAYS[values["by"]]
    if (last - first).days + 1 > longest:
        raise InvalidFields({"to": f"must be within {longest} days of from (both included) by {values['by']}"})
    return Asked(first, last, **values)


def _day(raw: str, name: str, errors: dict) -> date | None:
    try:
        day = date.fromisoformat(raw) if ISO_DATE.fullmatch(raw) else None
    except ValueError:
        day = None
    if day is None or not EARLIEST <= day < date(9999, 1, 1):
        errors[name] = "must be a day as YYYY-MM-DD (the shop's zone), from 1970-01-01"
    return day
