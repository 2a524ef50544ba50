"""Local days in SQL (the liability statement's buckets) agree with Python's on both databases,
across DST changes both ways and in half-hour and 45-minute zones."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import literal, select

from plugin.db import UTCDateTime
from plugin.loyalty.analytics.zone_days import ZoneDays, offset_pieces

ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kathmandu", "America/St_Johns",
         "Pacific/Chatham"]


@pytest.mark.parametrize("name", ZONES)
def test_every_hour_of_a_year_falls_on_the_day_python_gives_it(db, name):
    zone = ZoneInfo(name)
    span = ZoneDays(zone, date(2027, 1, 1), date(2027, 12, 31))
    moments = [span.start + timedelta(minutes=15 * n + 7) for n in range(0, 365 * 96, 97)]
    moments += [piece for piece, _ in offset_pieces(zone, span.start, span.end)[1:]]  # the changes themselves
    moments += [moment - timedelta(microseconds=1) for moment in moments]
    dialect = db.get_bind().dialect.name
    found = []
    for chunk in range(0, len(moments), 200):  # one query per 200 moments, a column each
        found += db.execute(select(*[span.day_of(literal(moment, UTCDateTime), dialect)
                                     for moment in moments[chunk:chunk + 200]])).one()
    assert found == [moment.astimezone(zone).date() for moment in moments]


def test_a_zone_changes_offset_twice_a_year_found_to_the_second():
    zone = ZoneInfo("America/New_York")
    start = datetime(2027, 1, 1, 5, tzinfo=timezone.utc)
    pieces = offset_pieces(zone, start, start + timedelta(days=365))
    assert pieces == [(start, -5 * 3600), (datetime(2027, 3, 14, 7, tzinfo=timezone.utc), -4 * 3600),
                      (datetime(2027, 11, 7, 6, tzinfo=timezone.utc), -5 * 3600)]
