"""One CSV record read into an import row: every field parsed, every bad one named.

Formulas: a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is
REFUSED, not neutralised. Such a cell (`=cmd|' /C calc'!A0`) is never a real email, tier,
birthday, id or reason; neutralising it (a leading `'`) would change the merchant's data
without their knowing and would still put the text in an append-only ledger reason that
our exports write back out. Refusing names the row, so the merchant fixes the file.
A number cell is read as a number first, so `-25` in a history is a debit, not a formula.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timezone, tzinfo

from plugin.ids import is_unicode_text, parse_id
from plugin.loyalty.emails import email_key
from plugin.loyalty.imports.reading import Problem
from plugin.loyalty.referrals.birthdays import parse_birthday

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_POINTS = 10**12  # per row; far past any program, far below the 64-bit columns
GID = "gid://shopify/Customer/"
KINDS = ("balances", "history")


@dataclass
class Row:
    row: int
    customer_id: int | None
    email: str | None  # as written in the file
    email_key: str | None  # normalised, for matching
    points: int
    earned_at: datetime | None
    tier: str | None = None
    birthday: str | None = None
    reason: str | None = None
    external_id: str | None = None


def parse_row(number: int, record: dict[str, str], kind: str, zone: tzinfo, now: datetime,
              preset: bool = False) -> Row | list[Problem]:
    """The row, or its problems (one per bad field). A `preset` reads the birthdays other
    apps write (YYYY-MM-DD, MM/DD, MM/DD/YYYY) besides the generic MM-DD."""
    problems, fields = [], {}
    for name, parse in _parsers(kind, zone, now, preset).items():
        value = (record.get(name) or "").strip()
        try:
            fields[name] = parse(value)
        except ValueError as error:
            problems.append(Problem(number, name, str(error)))
    if not problems and fields["customer_id"] is None and fields["email"] is None:
        problems.append(Problem(number, "customer_id", "a customer_id or an email is needed"))
    if problems:
        return problems
    email = fields.pop("email")
    return Row(number, fields.pop("customer_id"), email, email_key(email), fields.pop("points"),
               fields.pop("earned_at", None) or fields.pop("created_at", None), **_rest(fields))


def _rest(fields: dict) -> dict:
    return {name: fields.get(name) for name in ("tier", "birthday", "reason", "external_id")}


def _parsers(kind: str, zone: tzinfo, now: datetime, preset: bool) -> dict:
    if kind == "balances":
        return {"customer_id": _customer_id, "email": _email, "points": _balance,
                "earned_at": lambda v: _moment(v, zone, now, required=False), "tier": _text(255),
                "birthday": _other_apps_birthday if preset else _birthday}
    return {"customer_id": _customer_id, "email": _email, "points": _signed_points,
            "created_at": lambda v: _moment(v, zone, now, required=True), "reason": _text(200),
            "external_id": _text(64)}


def _plain(value: str) -> str:
    if value.startswith(FORMULA_STARTS):
        raise ValueError("looks like a spreadsheet formula (it starts with =, +, -, @ or a tab): refused")
    if "\x00" in value or not is_unicode_text(value):
        raise ValueError("must be text without NUL characters")
    return value


def _customer_id(value: str) -> int | None:
    if not value:
        return None
    text = _plain(value)
    number = parse_id(text[len(GID):] if text.startswith(GID) else text)
    if number is None or number <= 0:
        raise ValueError("must be the store's customer id (digits)")
    return number


def _email(value: str) -> str | None:
    if not value:
        return None
    if email_key(_plain(value)) is None:
        raise ValueError("is not an email address")
    return value


def _points(value: str) -> int:
    try:
        points = int(value, 10) if value.lstrip("+-").isascii() else None
    except ValueError:
        points = None
    if points is None:
        _plain(value)
        raise ValueError("must be a whole number of points")
    if abs(points) > MAX_POINTS:
        raise ValueError(f"must be at most {MAX_POINTS} points")
    return points


def _balance(value: str) -> int:
    points = _points(value)
    if points < 0:
        raise ValueError("must be 0 or more: a balance cannot be negative")
    return points


def _signed_points(value: str) -> int:
    points = _points(value)
    if points == 0:
        raise ValueError("must move points (not 0)")
    return points


def _moment(value: str, zone: tzinfo, now: datetime, required: bool) -> datetime | None:
    """An ISO date (midnight in the shop's zone) or datetime (the shop's zone if it has none)."""
    if not value:
        if required:
            raise ValueError("is required: an ISO date or date and time")
        return None
    try:
        moment = datetime.fromisoformat(_plain(value))
    except ValueError:
        raise ValueError("must be an ISO date (2026-05-21) or date and time") from None
    if len(value) <= 10:
        moment = datetime.combine(date.fromisoformat(value), time(), zone)
    moment = (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(timezone.utc)
    if moment > now:
        raise ValueError("is in the future")
    return moment


def _text(limit: int):
    def parse(value: str) -> str | None:
        if not value:
            return None
        if len(value) > limit:
            raise ValueError(f"must be at most {limit} characters")
        return _plain(value)
    return parse


def _birthday(value: str) -> str | None:
    return parse_birthday(_plain(value)) if value else None


def _other_apps_birthday(value: str) -> str | None:
    """YYYY-MM-DD (Smile writes year 1004 when it knows only the day), MM/DD or MM/DD/YYYY."""
    text = _plain(value)
    if len(text) == 10 and text[4] == "-":
        text = text[5:]
    elif "/" in text:
        text = "-".join(part.zfill(2) for part in text.split("/")[:2]) if text.count("/") in (1, 2) else text
    return _birthday(text)
