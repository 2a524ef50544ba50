"""Birthdays: reading "MM-DD", saving it once (shopper) or at will (merchant), and tick's bonus.

A birthday has no year and no time: it is a date in the shop's time zone. `grant_birthday_bonuses`
is a tick step: for each time zone the shops are in, it finds the members whose birthday is
today there (29 February on 28 February in other years) in one query, and the ledger writes
their entries and balances in one statement each. The entry's source is the member's
customer id and the year, so a second tick that day, or a birthday moved to a later date
the same year, grants nothing more. A birthday saved fewer than 30 days before gets no
bonus (no setting it on the day to collect one).
"""
import calendar
import re
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from plugin.loyalty.events.member_events import record_events
from plugin.loyalty.ledger.bonuses import grant_birthday_bonuses
from plugin.loyalty.members import ensure_member
from plugin.loyalty.shop_facts import business_zone
from plugin.models import Member, MemberEventKind, Program, Shop

MONTH_DAY = re.compile(r"(\d{2})-(\d{2})")
SETTLING_TIME = timedelta(days=30)
LEAP_YEAR = 2000


class BirthdayRefused(Exception):
    """A shopper's birthday that cannot be saved: `already_saved` (the store may change it),
    else the date is not one; the message says why, to the shopper."""

    def __init__(self, message: str, already_saved: bool = False):
        super().__init__(message)
        self.already_saved = already_saved


def parse_birthday(value) -> str:
    """A birthday as "MM-DD" (a real day of some year: 02-29 yes, 02-30 no); ValueError otherwise."""
    found = MONTH_DAY.fullmatch(value.strip()) if isinstance(value, str) else None
    if found is None:
        raise ValueError('must be a month and day as "MM-DD", for example "05-21"')
    month, day = int(found.group(1)), int(found.group(2))
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(LEAP_YEAR, month)[1]:
        raise ValueError(f"{value.strip()} is not a day of the year")
    return f"{month:02d}-{day:02d}"


def save_shoppers_birthday(session: Session, shop_id: int, customer_id: int, value, now: datetime) -> str:
    """A shopper sets their birthday, once; BirthdayRefused(already_saved) if it is already set."""
    try:
        birthday = parse_birthday(value)
    except ValueError as problem:
        raise BirthdayRefused(f"The birthday {problem}.") from None
    member = ensure_member(session, shop_id, customer_id)
    saved = session.execute(update(Member).where(Member.id == member, Member.birthday.is_(None))
                            .values(birthday=birthday, birthday_saved_at=now)
                            .execution_options(synchronize_session=False)).rowcount
    if saved != 1:
        raise BirthdayRefused("Your birthday is already saved. The store can change it for you.", already_saved=True)
    return birthday


def set_birthday(session: Session, member: Member, birthday: str | None, now: datetime) -> None:
    """The merchant sets or clears a member's birthday (already parsed)."""
    member.birthday = birthday
    member.birthday_saved_at = now if birthday is not None else None
    session.flush()


def grant_birthday_bonuses_step(session: Session, now: datetime) -> int:
    """The tick step: today's birthdays, in each shop's zone, get the program's bonus; how many."""
    shops = session.execute(select(Shop.id, Shop.iana_timezone, Program.birthday_bonus).join(
        Program, Program.shop_id == Shop.id).where(Program.birthday_bonus > 0, Shop.uninstalled_at.is_(None))).all()
    zones: dict[str | None, dict[int, int]] = defaultdict(dict)
    for shop_id, zone, bonus in shops:
        zones[zone][shop_id] = bonus
    granted = 0
    for zone, bonuses in zones.items():
        granted += _grant_in_zone(session, now.astimezone(business_zone(zone)).date(), bonuses, now)
    return granted


def _grant_in_zone(session: Session, today: date, bonuses: dict[int, int], now: datetime) -> int:
    due = session.execute(select(Member.shop_id, Member.id, Member.customer_id).where(
        Member.shop_id.in_(bonuses), Member.birthday.in_(birthdays_on(today)),
        Member.birthday_saved_at <= now - SETTLING_TIME, Member.redacted_at.is_(None))).all()
    rows = [(shop, member, bonuses[shop], f"{customer}-{today.year}") for shop, member, customer in due]
    granted = grant_birthday_bonuses(session, rows, f"Happy birthday! ({today.year})", now)
    customers = {member: customer for _, member, customer in due}
    events: dict[int, list] = defaultdict(list)
    for shop, member, points in granted:
        events[shop].append((member, customers[member], f"{customers[member]}-{today.year}", {"points": points}))
    for shop, rows_of_shop in events.items():
        record_events(session, shop, MemberEventKind.BIRTHDAY_BONUS, rows_of_shop)
    return len(granted)


def birthdays_on(day: date) -> list[str]:
    """The birthdays celebrated on `day`: its own, and 29 February on 28 February of other years."""
    dates = [f"{day.month:02d}-{day.day:02d}"]
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        dates.append("02-29")
    return dates
