"""Program performance and cohorts (`GET /api/reports/performance`, `/api/reports/cohorts`), worked by hand.

Orders carry their own time (`processed_at`) and count on that day in the shop's zone; the
members' joining time is set in the database (webhooks stamp "now"). Ledger entries and
codes are posted now, so the points and codes figures are read over today.
"""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from plugin.db import transaction, utcnow
from plugin.loyalty.analytics.cohorts import month_starts
from plugin.models import Member
from tests.helpers import OTHER_SHOP, SHOP, auth, order, table_counts

GRAPHQL = f"https://{SHOP}/admin/api/2026-10/graphql.json"
CREATED = {"data": {"discountCodeBasicCreate": {"codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/1"},
                                                "userErrors": []}}}
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def get(client, path: str, shop: str = SHOP, **query) -> dict:
    response = client.get(path, query_string=query, headers=auth(shop))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def api(client, method: str, path: str, body: dict) -> dict:
    response = getattr(client, method)(path, json=body, headers=auth())
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def paid(send, customer_id, total: str, at: str, shop: str = SHOP, **fields) -> dict:
    payload = order(customer_id=customer_id, subtotal=total, total_price=total, processed_at=at, **fields)
    send("orders/paid", payload, shop=shop)
    return payload


def joined(app, customer_id: int, at: datetime) -> None:
    with app.app_context(), transaction() as session:
        session.execute(update(Member).where(Member.customer_id == customer_id).values(created_at=at))


@pytest.fixture
def march(app, client, send, platform):
    """A New York shop's March (EST until the 8th, EDT after).

      members (earned points): Ada 100 (Mar 2), 20 (Mar 20), 48.50 with her reward code (Mar 25);
                               Bob 60 (Mar 31 23:30 local, already April 1 in UTC)
      non-members (wholesale, no points): Cy 200 + 50, Di 30 (Mar 1 00:10 local, 05:10 UTC)
      guest: 15; Ed 40 on Feb 28 23:59 local (March 1 in UTC): not March; Fy 10, cancelled
      Ada joined Mar 10, Bob Mar 31 (local days); the others joined today.
    """
    send("shop/update", {"id": 1, "myshopify_domain": SHOP, "iana_timezone": "America/New_York", "currency": "USD"})
    api(client, "patch", "/api/program", {"excluded_order_tags": ["wholesale"]})
    paid(send, 7001, "100.00", "2026-03-02T10:00:00-05:00")
    paid(send, 7001, "20.00", "2026-03-20T10:00:00-04:00")
    platform.post(GRAPHQL, json=CREATED)
    reward = api(client, "post", "/api/rewards", {"name": "5 off", "kind": "amount_off", "value": "5",
                                                  "points_cost": 100})["id"]
    code = api(client, "post", "/api/members/7001/redemptions", {"reward_id": reward})["code"]
    send("orders/paid", order(customer_id=7001, subtotal="45.00", processed_at="2026-03-25T10:00:00-04:00",
                              total_price_set={"shop_money": {"amount": "48.50", "currency_code": "USD"}},
                              discount_codes=[{"code": code, "amount": "5.00", "type": "fixed_amount"}]))
    paid(send, 7002, "60.00", "2026-03-31T23:30:00-04:00")
    paid(send, 7003, "200.00", "2026-03-05T10:00:00-05:00", tags="wholesale")
    paid(send, 7003, "50.00", "2026-03-06T10:00:00-05:00", tags="wholesale")
    paid(send, 7004, "30.00", "2026-03-01T00:10:00-05:00", tags="wholesale")
    paid(send, None, "15.00", "2026-03-12T10:00:00-04:00")
    paid(send, 7005, "40.00", "2026-02-28T23:59:00-05:00")
    cancelled = paid(send, 7006, "10.00", "2026-03-15T10:00:00-04:00")
    send("orders/cancelled", {**cancelled, "cancelled_at": utcnow().isoformat()})
    joined(app, 7001, datetime(2026, 3, 10, 17, tzinfo=timezone.utc))
    joined(app, 7002, datetime(2026, 3, 31, 17, tzinfo=timezone.utc))
    paid(send, 7001, "999.00", "2026-03-02T10:00:00-05:00", shop=OTHER_SHOP)  # never counted above


def test_marchs_performance_matches_the_hand_count(client, march):
    figures = get(client, "/api/reports/performance", **MARCH)
    assert (figures["from"], figures["to"], figures["zone"]) == ("2026-03-01", "2026-03-31", "America/New_York")
    assert figures["groups"]["members"] == {
        "customers": 2, "orders": 4, "revenue": "228.50", "repeat_purchase_rate": "0.5000",
        "average_order_value": "57.13", "orders_per_customer": "2.0000", "revenue_per_customer": "114.25"}
    assert figures["groups"]["non_members"] == {
        "customers": 2, "orders": 3, "revenue": "280.00", "repeat_purchase_rate": "0.5000",
        "average_order_value": "93.33", "orders_per_customer": "1.5000", "revenue_per_customer": "140.00"}
    assert figures["guests"] == {"orders": 1, "revenue": "15.00"}
    assert (figures["orders"], figures["revenue"], figures["reward_revenue"]) == (8, "523.50", "48.50")
    assert figures["order_earning_rate"] == "0.5000"  # Ada's 3 and Bob's 1 of 8; the guest earns nothing
    assert figures["membership_rate"] == "0.5000"


def test_members_who_joined_are_compared_before_and_after_joining(client, march):
    enrolment = get(client, "/api/reports/performance", **MARCH)["enrolment"]
    # Ada: 100 before her Mar 10; 20 and 48.50 after. Bob: 60 on his joining day (after). 90 days each side.
    assert enrolment == {"members": 2, "window_days": 90,
                         "before": {"orders": 1, "revenue": "100.00", "member_days": 180,
                                    "orders_per_member_month": "0.1667", "average_order_value": "100.00"},
                         "after": {"orders": 3, "revenue": "128.50", "member_days": 180,
                                   "orders_per_member_month": "0.5000", "average_order_value": "42.83"}}


def test_points_and_codes_are_read_by_when_they_were_posted(client, march):
    today = utcnow().astimezone(ZoneInfo("America/New_York")).date().isoformat()
    figures = get(client, "/api/reports/performance", **{"from": today, "to": today})
    # Issued: Ada 100 + 20 + 45, Bob 60, Ed 40, Fy 10 (cancelled later: still issued) = 275; redeemed 100.
    assert (figures["points_issued"], figures["points_redeemed"], figures["redemption_rate"]) == (275, 100, "0.3636")
    assert (figures["codes_issued"], figures["codes_used"], figures["reward_usage_rate"]) == (1, 1, "1.0000")
    assert figures["orders"] == 0 and figures["groups"]["members"]["average_order_value"] is None


def test_an_order_counts_on_its_own_day_in_the_shops_zone(client, march):
    def orders(first: str, last: str) -> int:
        return get(client, "/api/reports/performance", **{"from": first, "to": last})["orders"]

    assert orders("2026-02-28", "2026-02-28") == 1  # Ed's, though it was March 1 in UTC
    assert orders("2026-04-01", "2026-04-01") == 0  # Bob's is March 31 here
    assert orders("2026-03-01", "2026-03-01") == 1  # Di's 00:10


def test_a_shop_with_nothing_gets_zeros_and_nulls(client, installed):
    figures = get(client, "/api/reports/performance")
    assert figures["orders"] == 0 and figures["revenue"] == "0.00"
    assert all(figures[key] is None for key in ("redemption_rate", "order_earning_rate", "reward_usage_rate",
                                                "membership_rate"))
    assert figures["groups"]["members"]["repeat_purchase_rate"] is None
    assert figures["enrolment"]["before"]["orders_per_member_month"] is None


@pytest.mark.parametrize(("path", "query", "field"), [
    ("/api/reports/performance", {"from": "2026-03-02", "to": "2026-03-01"}, "from"),
    ("/api/reports/performance", {"from": "2026-02-30"}, "from"),
    ("/api/reports/performance", {"to": "tomorrow"}, "to"),
    ("/api/reports/performance", {"from": "2025-01-01", "to": "2026-03-01"}, "to"),
    ("/api/reports/cohorts", {"months": "0"}, "months"),
    ("/api/reports/cohorts", {"months": "25"}, "months"),
    ("/api/reports/cohorts", {"months": "-3"}, "months"),
    ("/api/reports/cohorts", {"months": "twelve"}, "months"),
])
def test_a_bad_question_is_refused_with_its_field_and_changes_nothing(client, db, send, installed, path, query,
                                                                       field):
    paid(send, 7001, "10.00", "2026-03-02T10:00:00Z")
    before = table_counts(db)
    response = client.get(path, query_string=query, headers=auth())
    assert response.status_code == 422 and field in response.get_json()["fields"]
    assert table_counts(db) == before


def at(day: date, hour: int = 0) -> str:
    return datetime(day.year, day.month, day.day, hour, 0, 1, tzinfo=timezone.utc).isoformat()


def test_cohorts_draw_the_retention_triangle(app, client, send, installed):
    """Three months ending with this one (a UTC shop). Joined two months ago: Ada, Bob, Cy (Cy's
    order is cancelled: he ordered in no month) and Di (wholesale: no points, no member);
    last month: Ed; this month: nobody. Ada orders in months 0, 1 and 2; Bob in month 2; Ed in both of his."""
    api(client, "patch", "/api/program", {"excluded_order_tags": ["wholesale"]})
    first, second, third = month_starts(utcnow().date(), 3)
    for customer_id, day in ((7001, first), (7001, second), (7001, third), (7002, third), (7005, second),
                             (7005, third)):
        paid(send, customer_id, "10.00", at(day))
    cancelled = paid(send, 7003, "10.00", at(first))
    send("orders/cancelled", {**cancelled, "cancelled_at": utcnow().isoformat()})
    paid(send, 7004, "10.00", at(first), tags="wholesale")
    for customer_id, day in ((7001, first), (7002, first), (7003, first), (7004, first), (7005, second)):
        joined(app, customer_id, datetime.fromisoformat(at(day)))
    answer = get(client, "/api/reports/cohorts", months="3")
    assert answer["zone"] == "UTC"
    assert answer["cohorts"] == [
        {"month": first.strftime("%Y-%m"), "members": 3, "buyers": [1, 1, 2],
         "retention": ["0.3333", "0.3333", "0.6667"]},
        {"month": second.strftime("%Y-%m"), "members": 1, "buyers": [1, 1], "retention": ["1.0000", "1.0000"]},
        {"month": third.strftime("%Y-%m"), "members": 0, "buyers": [0], "retention": [None]},
    ]
    assert len(get(client, "/api/reports/cohorts")["cohorts"]) == 12


def test_the_month_starts_cross_the_year():
    assert month_starts(date(2026, 2, 14), 4) == [date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1),
                                                  date(2026, 2, 1)]
    assert month_starts(date(2026, 2, 14), 1) == [date(2026, 2, 1)]
    assert month_starts(date(2026, 1, 31), 2) == [date(2025, 12, 1), date(2026, 1, 1)]
