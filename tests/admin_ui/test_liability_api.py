"""Bad statements asked of `GET /api/reports/liability`: each answered 422, naming its field,
with nothing changed; and what is left out defaults to the last 30 days of the shop's zone."""
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from plugin.db import utcnow
from tests.helpers import auth, customer, table_counts

BAD = [
    ({"from": "2026-03-02", "to": "2026-03-01"}, "from"),
    ({"from": "2026-02-30", "to": "2026-03-01"}, "from"),
    ({"from": "yesterday", "to": "2026-03-01"}, "from"),
    ({"from": "2026-3-1", "to": "2026-03-01"}, "from"),
    ({"from": "2026-03-01", "to": "2026-03-01T00:00"}, "to"),
    ({"from": "1969-12-31", "to": "2026-03-01"}, "from"),
    ({"from": "2025-02-28", "to": "2026-03-01"}, "to"),  # 366 days is the most by day: this is 367
    ({"from": "2016-02-22", "to": "2026-03-01", "by": "month"}, "to"),  # 3,661 days: past 3,660
    ({"from": "2026-03-01", "to": "2026-03-01", "format": "xml"}, "format"),
    ({"from": "2026-03-01", "to": "2026-03-01", "format": ""}, "format"),
    ({"from": "2026-03-01", "to": "2026-03-01", "by": "week"}, "by"),
]


@pytest.mark.parametrize(("query", "field"), BAD, ids=[f"{field}:{query}" for query, field in BAD])
def test_a_bad_statement_is_refused_with_its_field_and_changes_nothing(client, db, send, installed, query, field):
    send("customers/create", customer(7001))
    before = table_counts(db)
    response = client.get("/api/reports/liability", query_string=query, headers=auth())
    assert response.status_code == 422
    assert response.get_json()["error"] == "invalid statement" and field in response.get_json()["fields"]
    assert table_counts(db) == before


def test_the_longest_statements_are_answered(client, installed):
    by_day = client.get("/api/reports/liability", query_string={"from": "2025-03-01", "to": "2026-03-01"},
                        headers=auth())
    assert by_day.status_code == 200 and len(by_day.get_json()["rows"]) == 366
    by_month = client.get("/api/reports/liability", query_string={"from": "2016-02-23", "to": "2026-03-01",
                                                                  "by": "month"}, headers=auth())
    assert by_month.status_code == 200 and len(by_month.get_json()["rows"]) == 122


def test_without_dates_the_statement_is_the_last_30_days_of_the_shops_zone(client, send, installed):
    send("shop/update", {"id": 1, "myshopify_domain": "rosebud-tea.myshopify.com",
                         "iana_timezone": "Pacific/Kiritimati", "currency": "AUD"})  # UTC+14
    today = utcnow().astimezone(ZoneInfo("Pacific/Kiritimati")).date()
    answer = client.get("/api/reports/liability", headers=auth()).get_json()
    assert (answer["from"], answer["to"]) == ((today - timedelta(days=29)).isoformat(), today.isoformat())
    assert answer["zone"] == "Pacific/Kiritimati" and answer["currency"] == "AUD"
    assert [row["date"] for row in answer["rows"]][-1] == today.isoformat() and len(answer["rows"]) == 30
    assert answer["chart"].startswith("<svg") and date.fromisoformat(answer["rows"][0]["date"])
