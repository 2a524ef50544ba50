"""The points liability statement (`GET /api/reports/liability`), worked out by hand.

A shop in Asia/Kolkata (UTC+05:30, so days are not UTC days) makes its history through
signed webhooks, the admin API and a mocked Admin API; the days after today come from
`tick --now` at the end of each local day (pending points released, points expired).
Webhooks stamp "now": everything but the ticks' work is on today's row.
"""
import csv
import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import responses

from plugin.db import utcnow
from plugin.loyalty.analytics.liability import COLUMN_OF, COLUMNS as MOVEMENTS
from plugin.models import EntryKind
from tests.helpers import OTHER_SHOP, SHOP, auth, customer, member, order, refund
from tests.plugin.loyalty.rewards.test_redemptions import GRAPHQL, created, redeem, reward_id

ZONE = ZoneInfo("Asia/Kolkata")
REFUSED = {"data": {"discountCodeBasicCreate": {"codeDiscountNode": None, "userErrors": [
    {"field": ["code"], "message": "Code is invalid", "code": "INVALID"}]}}}
COLUMNS = ("opening", "earned", "reversed", "redeemed", "returned", "expired", "adjusted", "imported", "closing",
           "pending")


def statement(client, shop: str = SHOP, **query):
    response = client.get("/api/reports/liability", query_string=query, headers=auth(shop))
    assert response.status_code == 200, response.get_json()
    return response


def rows(client, first: date, last: date, **query) -> dict[date, dict]:
    answer = statement(client, **{"from": first.isoformat(), "to": last.isoformat(), **query}).get_json()
    return {date.fromisoformat(row["date"]): row for row in answer["rows"]}


def figures(row: dict) -> tuple:
    return tuple(row[name] for name in COLUMNS)


def local_today() -> date:
    return utcnow().astimezone(ZONE).date()


def end_of(day: date) -> str:
    """The last second of a local day, as `tick --now` takes it."""
    return datetime.combine(day, time(23, 59, 59), ZONE).isoformat()


def tick(app, now: str) -> str:
    result = app.test_cli_runner().invoke(args=["tick", "--now", now])
    assert result.exit_code == 0, result.output
    return result.output


def month_later(day: date) -> date:
    """The fifo rule: the same date a calendar month on, the month's last day if it has none."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError(day)


def api(client, method: str, path: str, body: dict) -> dict:
    response = getattr(client, method)(path, json=body, headers=auth())
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


@pytest.fixture
def kolkata(send, platform):
    send("shop/update", {"id": 1, "myshopify_domain": SHOP, "iana_timezone": "Asia/Kolkata", "currency": "INR"})


@pytest.fixture
def history(client, send, platform, kolkata):
    """One member's day, by hand (all on today's row):
      earned   = signup 50 + order A 100 (its window closed: spendable) + order B 40 (pending) = 190
      reversed = a refund of 10.00 on B: -10, from B's pending points
      redeemed = a 60-point code (made) and a 20-point code (refused): -80; returned = +20
      adjusted = +5
      closing  = 190 - 10 - 80 + 20 + 5 = 125, of which 30 pending (B's 40 less the refund)
    Spending takes the oldest lot (A, 20 days old), so A keeps 40, expiring a month after its day.
    """
    api(client, "patch", "/api/program", {"signup_bonus": 50, "pending_days": 14})
    send("customers/create", customer(7001))
    now = utcnow()
    a = order(customer_id=7001, subtotal="100.00", processed_at=(now - timedelta(days=20)).isoformat())
    b = order(customer_id=7001, subtotal="40.00", processed_at=(now - timedelta(days=1)).isoformat())
    send("orders/paid", a)
    send("orders/paid", b)
    send("refunds/create", refund(b["id"], "10.00"))
    api(client, "post", "/api/members/7001/adjustments", {"points": 5, "reason": "goodwill"})
    platform.post(GRAPHQL, json=created())
    assert redeem(client, reward_id(client, value="6", points_cost=60)).status_code == 201
    platform.replace(responses.POST, GRAPHQL, json=REFUSED)
    assert redeem(client, reward_id(client, value="1", points_cost=20)).get_json()["status"] == "failed"
    found = member(client)
    assert (found["balance"], found["pending"]) == (95, 30)
    return {"a": a, "b": b, "released": (now - timedelta(days=1) + timedelta(days=14)).astimezone(ZONE).date(),
            "expires": month_later((now - timedelta(days=20)).astimezone(ZONE).date())}


def test_todays_row_holds_every_column_and_the_money_value(client, history):
    today = local_today()
    row = rows(client, today - timedelta(days=1), today)
    assert figures(row[today - timedelta(days=1)]) == (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    assert figures(row[today]) == (0, 190, -10, -80, 20, 0, 5, 0, 125, 30)
    # The best money per point among active amount-off rewards: 6 / 60 = 0.10 (1 / 20 = 0.05).
    assert row[today]["closing_value"] == "12.50"
    assert row[today - timedelta(days=1)]["closing_value"] == "0.00"


def test_ticks_release_the_pending_points_and_expire_the_oldest_on_their_days(app, client, history):
    api(client, "patch", "/api/program", {"expiry_policy": "fifo", "expiry_months": 1})
    today = local_today()
    last = history["released"] + timedelta(days=1)
    for n in range(1, (last - today).days + 1):
        tick(app, end_of(today + timedelta(days=n)))
    found = member(client)
    assert (found["balance"], found["pending"]) == (55 + 30, 0)
    statement_rows = rows(client, today, last)
    assert len(statement_rows) == (last - today).days + 1
    expires, released = history["expires"], history["released"]
    for day, row in statement_rows.items():
        expired = -40 if day == expires else 0
        opening = 125 if day == today else 125 - (40 if day > expires else 0)
        pending = 30 if day < released else 0
        if day == today:
            assert figures(row) == (0, 190, -10, -80, 20, 0, 5, 0, 125, 30)
        else:
            assert figures(row) == (opening, 0, 0, 0, 0, expired, 0, 0, opening + expired, pending), day


def test_by_month_folds_the_days(app, client, history):
    today = local_today()
    first = today.replace(day=1)
    monthly = statement(client, **{"from": (first - timedelta(days=3)).isoformat(), "to": today.isoformat(),
                                   "by": "month"}).get_json()["rows"]
    assert [row["date"] for row in monthly] == [(first - timedelta(days=3)).isoformat(), first.isoformat()]
    assert figures(monthly[0]) == (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    assert figures(monthly[1]) == (0, 190, -10, -80, 20, 0, 5, 0, 125, 30)


def test_csv_has_the_header_and_the_same_rows(client, history):
    today = local_today()
    query = {"from": (today - timedelta(days=2)).isoformat(), "to": today.isoformat()}
    answer = statement(client, **query, format="csv")
    assert answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    lines = answer.get_data(as_text=True).splitlines()
    assert lines[0] == "date,opening,earned,reversed,redeemed,returned,expired,adjusted,imported,closing,pending," \
                       "closing_value"
    table = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    as_json = statement(client, **query).get_json()["rows"]
    assert [{key: str(value if value is not None else "") for key, value in row.items()} for row in as_json] == table
    assert table[-1]["closing"] == "125" and table[-1]["closing_value"] == "12.50"


def test_the_value_comes_from_the_best_active_amount_off_reward_and_other_shops_see_nothing(client, send,
                                                                                            installed):
    send("customers/create", customer(7001))
    api(client, "post", "/api/members/7001/adjustments", {"points": 30, "reason": "welcome"})
    today = utcnow().date()  # no zone yet: UTC days
    row = rows(client, today, today)[today]
    assert figures(row) == (0, 0, 0, 0, 0, 0, 30, 0, 30, 0)
    assert row["closing_value"] == "0.30"  # the default "5 off" for 500 points: 0.01 a point
    for reward in client.get("/api/rewards", headers=auth()).get_json()["rewards"]:
        if reward["kind"] == "amount_off":
            assert client.delete(f"/api/rewards/{reward['id']}", headers=auth()).status_code == 204
    assert rows(client, today, today)[today]["closing_value"] is None  # 10 % off and free shipping have no value
    api(client, "post", "/api/rewards", {"name": "3 off", "kind": "amount_off", "value": "3.35", "points_cost": 300})
    assert rows(client, today, today)[today]["closing_value"] == "0.34"  # 30 x 3.35 / 300 = 0.335, half up
    other = statement(client, shop=OTHER_SHOP, **{"from": today.isoformat(), "to": today.isoformat()}).get_json()
    assert figures(other["rows"][0]) == (0,) * 10


def test_every_entry_kind_falls_in_exactly_one_column():
    # A kind added later without its column would fail every statement that meets it: caught here first.
    assert {kind.value for kind in EntryKind} <= set(COLUMN_OF)
    assert set(COLUMN_OF.values()) == set(MOVEMENTS)
