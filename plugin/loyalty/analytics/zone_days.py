"""Days in the shop's zone, in SQL: the local calendar day of a UTC timestamp column.

PostgreSQL knows IANA zones (`AT TIME ZONE`). SQLite knows none, so the zone's UTC offsets
over the period are worked out here (at most a few changes a year) and the column is
shifted by the offset of its piece: the same day on both databases, DST and half-hour
zones included.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from sqlalchemy import Date, case, func, literal_column, type_coerce
from sqlalchemy.sql.elements import ColumnElement

SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class ZoneDays:
    """Local days `first` to `last` of `zone`: UTC bounds, and the SQL that buckets a time."""

    zone: tzinfo
    first: date
    last: date

    @property
    def start(self) -> datetime:
        """Local midnight at the start of `first`, in UTC."""
        return local_midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        """Exclusive: local midnight after `last`, in UTC."""
        return local_midnight(self.last + timedelta(days=1), self.zone)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def day_of(self, column, dialect: str) -> ColumnElement:
        """The local day (a DATE) of a time column between `start` and `end`."""
        if dialect == "postgresql":
            name = getattr(self.zone, "key", "UTC")
            return type_coerce(func.date(func.timezone(name, column)), Date)
        pieces = offset_pieces(self.zone, self.start, self.end)
        # Whole seconds only: SQLite rounds a shifted time to the millisecond, which would carry
        # 23:59:59.9999 into the next day; offsets are whole seconds, so no day changes by it.
        seconds = func.substr(column, 1, 19)
        shifted = [func.date(seconds, literal_column(f"'{offset:+d} seconds'")) for _, offset in pieces]
        if len(pieces) == 1:
            return type_coerce(shifted[0], Date)
        whens = [(column < begins, day) for (begins, _), day in zip(pieces[1:], shifted)]
        return type_coerce(case(*whens, else_=shifted[-1]), Date)


def local_midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time.min, zone).astimezone(timezone.utc)


def offset_pieces(zone: tzinfo, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """[(from, UTC offset in seconds)]: the zone's offset from each UTC moment until the next.

    Checked once a day and found to the second between two days that differ; zones change
    their offset at whole seconds (whole minutes, in fact) and at most once a day."""
    pieces = [(start, _offset(zone, start))]
    moment = start
    while moment < end:
        after = min(moment + timedelta(days=1), end)
        if _offset(zone, after) != pieces[-1][1]:
            low, high = moment, after
            while high - low > SECOND:
                middle = low + (high - low) / 2
                low, high = (middle, high) if _offset(zone, middle) == pieces[-1][1] else (low, middle)
            changes = low.replace(microsecond=0) + SECOND
            pieces.append((changes, _offset(zone, changes)))
        moment = after
    return pieces


def _offset(zone: tzinfo, moment: datetime) -> int:
    return int(moment.astimezone(zone).utcoffset().total_seconds())
