"""Expiry dates: when points earned at a business time expire, and which have by a day.

Points expire on a date (in the shop's zone), `expiry_months` calendar months after the
date they were earned; a date past the end of the shorter month moves back to its last
day (31 January + 1 month = 28 February). Because that mapping never goes backwards,
"expired by day T" is "earned before a cut-off instant", which the tick asks the database
for in one range query. Pure functions: no database, no Flask.
"""
from calendar import monthrange
from datetime import date, datetime, time, timedelta, timezone, tzinfo


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def expiry_date(earned_at: datetime, months: int, zone: tzinfo) -> date:
    """The date points earned at `earned_at` expire on (they are spendable the day before)."""
    return add_months(earned_at.astimezone(zone).date(), months)


def last_earning_day_expired(today: date, months: int) -> date:
    """The last earning date whose points have expired by `today`."""
    day = add_months(today, -months)
    while add_months(day + timedelta(days=1), months) <= today:
        day += timedelta(days=1)
    return day


def cutoff(today: date, months: int, zone: tzinfo) -> datetime:
    """Points earned before this instant (UTC) have expired by `today` in `zone`."""
    after = last_earning_day_expired(today, months) + timedelta(days=1)
    return datetime.combine(after, time(0), tzinfo=zone).astimezone(timezone.utc)


def months_between(first: datetime, last: datetime, zone: tzinfo) -> str:
    """"March 2026" or "February to March 2026": when a batch of expiring points was earned."""
    start, end = first.astimezone(zone), last.astimezone(zone)
    if (start.year, start.month) == (end.year, end.month):
        return start.strftime("%B %Y")
    if start.year == end.year:
        return f"{start.strftime('%B')} to {end.strftime('%B %Y')}"
    return f"{start.strftime('%B %Y')} to {end.strftime('%B %Y')}"
