"""The dashboard figures (`GET /api/stats`), worked out by hand on a small history.

The history is made the way a store makes it: signed webhooks, the admin API, redemptions
with the Admin API mocked. Webhooks stamp "now", so the tests about days and period edges
give orders their own time (`processed_at`) and set `created_at` in the database (ledger
entries are append-only: those are inserted with their time rather than moved).
"""
import uuid
import xml.etree.ElementTree as ElementTree
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import responses
from sqlalchemy import event

from admin_ui.charts import Series, line_chart
from plugin.db import transaction, utcnow
from plugin.models import EntryKind, LedgerEntry, Member, OrderRecord
from tests.helpers import OTHER_SHOP, SHOP, auth, customer, order, refund

GRAPHQL = f"https://{SHOP}/admin/api/2026-10/graphql.json"
CREATED = {"data": {"discountCodeBasicCreate": {"codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/1"},
                                                "userErrors": []}}}
REFUSED = {"data": {"discountCodeBasicCreate": {"codeDiscountNode": None, "userErrors": [
    {"field": ["code"], "message": "Code is invalid", "code": "INVALID"}]}}}


def stats(client, shop: str = SHOP, **query) -> dict:
    response = client.get("/api/stats", query_string=query, headers=auth(shop))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def today() -> str:
    return utcnow().date().isoformat()


def api(client, method: str, path: str, body: dict, shop: str = SHOP) -> dict:
    response = getattr(client, method)(path, json=body, headers=auth(shop))
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def new_reward(client, value: str, points_cost: int, kind: str = "amount_off", **fields) -> int:
    body = {"name": f"{value} off", "kind": kind, "value": value, "points_cost": points_cost, **fields}
    return api(client, "post", "/api/rewards", body)["id"]


def redeem(client, reward: int, customer_id: int) -> dict:
    return api(client, "post", f"/api/members/{customer_id}/redemptions", {"reward_id": reward})


@pytest.fixture
def history(client, send, platform):
    """Six customers, a guest, a cancelled order, two redemptions (one failed), another shop.

    Worked out by hand (all on today's date):
      issued   = signup 50 + orders 100 + 20 + 60 + 45 + 10 (cancelled later) = 285
                 (the adjustments, +10 and -5, are corrections: not issued)
      redeemed = 100 (Ada's code) + 50 - 50 (Bob's code failed, points returned) = 100
      balances = Ada 50+100+20-5-100+45 = 110, Bob 60+10 = 70, the others 0 -> outstanding 180
      paid orders (not cancelled): Ada 3, Bob 1, Cy 2 and Di 1 and Ed 1 (wholesale), guest 1 = 9
    """
    api(client, "patch", "/api/program", {"signup_bonus": 50, "excluded_order_tags": ["wholesale"]})
    send("customers/create", customer(7001))
    send("orders/paid", order(customer_id=7001, subtotal="100.00", total_price="108.00"))
    send("orders/paid", order(customer_id=7001, subtotal="20.00", total_price="25.00"))
    send("orders/paid", order(customer_id=7002, subtotal="60.00", total_price="60.00"))
    for customer_id, total in ((7003, "200.00"), (7003, "50.00"), (7004, "30.00"), (7006, "12.00")):
        send("orders/paid", order(customer_id=customer_id, subtotal=total, total_price=total, tags="wholesale"))
    send("orders/paid", order(customer_id=None, subtotal="15.00", total_price="15.00"))
    api(client, "post", "/api/members/7002/adjustments", {"points": 10, "reason": "goodwill"})
    api(client, "post", "/api/members/7001/adjustments", {"points": -5, "reason": "correction"})
    platform.post(GRAPHQL, json=CREATED)
    code = redeem(client, new_reward(client, "5", 100), 7001)["code"]
    platform.replace(responses.POST, GRAPHQL, json=REFUSED)
    assert redeem(client, new_reward(client, "2", 50), 7002)["status"] == "failed"
    send("orders/paid", order(customer_id=7001, subtotal="45.00", total_price="1.00",
                              total_price_set={"shop_money": {"amount": "48.50", "currency_code": "USD"}},
                              discount_codes=[{"code": code, "amount": "5.00", "type": "fixed_amount"}]))
    cancelled = order(customer_id=7005, subtotal="10.00", total_price="10.00")
    send("orders/paid", cancelled)
    send("orders/cancelled", {**cancelled, "cancelled_at": utcnow().isoformat()})
    # Catalog noise the liability must ignore: a better rate that is inactive, one deleted, a percentage.
    api(client, "patch", f"/api/rewards/{new_reward(client, '50', 100)}", {"active": False})
    assert client.delete(f"/api/rewards/{new_reward(client, '90', 100)}", headers=auth()).status_code == 204
    new_reward(client, "100", 1, kind="percentage_off")
    # Another shop, with the same customer ids and bigger numbers: never counted above.
    send("customers/create", customer(7001), shop=OTHER_SHOP)
    send("orders/paid", order(customer_id=7001, subtotal="999.00", total_price="999.00"), shop=OTHER_SHOP)
    send("orders/paid", order(customer_id=7009, subtotal="999.00", total_price="999.00"), shop=OTHER_SHOP)


def test_the_figures_of_a_small_history_match_the_hand_count(client, history):
    figures = stats(client, **{"from": today(), "to": today()})
    assert {key: figures[key] for key in ("from", "to", "currency")} == {"from": today(), "to": today(),
                                                                         "currency": None}
    assert (figures["members"], figures["new_members"]) == (6, 6)  # 7001-7006; the guest is no member
    assert (figures["points_issued"], figures["points_redeemed"]) == (285, 100)
    assert figures["redemption_rate"] == "0.3509"  # 100 / 285
    assert figures["points_outstanding"] == 180
    assert figures["outstanding_value"] == "9.00"  # 180 points at the best active rate, 5 for 100
    assert figures["orders"] == 9 and figures["loyalty_revenue"] == "48.50"  # shop money, not total_price
    # Members: Ada (3 orders) and Bob (1). Not earning: Cy (2), Di (1), Ed (1). The guest: neither.
    assert figures["repeat_purchase_rate"] == {"members": "0.5000", "non_members": "0.3333"}
    assert figures["ordering_customers"] == {"members": 2, "non_members": 3, "guest_orders": 1}
    assert figures["series"] == [{"date": today(), "points_issued": 285, "points_redeemed": 100,
                                  "points_expired": 0, "new_members": 6, "orders": 9}]


def test_another_shop_sees_only_its_own_figures(client, history):
    other = stats(client, OTHER_SHOP, **{"from": today(), "to": today()})
    assert (other["members"], other["points_issued"], other["points_redeemed"], other["orders"]) == (2, 1998, 0, 2)
    assert other["points_outstanding"] == 1998 and other["outstanding_value"] == "19.98"  # default 5 for 500
    assert other["repeat_purchase_rate"] == {"members": "0.0000", "non_members": None}


def test_without_dates_the_period_is_the_last_30_days_ending_today(client, history):
    figures = stats(client)
    days = [row["date"] for row in figures["series"]]
    assert figures["to"] == today() and len(days) == 30 and days[-1] == today()
    assert figures["from"] == days[0] == (utcnow().date() - timedelta(days=29)).isoformat()
    assert figures["points_issued"] == 285 and sum(row["orders"] for row in figures["series"]) == 9


def test_a_shop_with_nothing_yet_gets_zeros_and_nulls(client, installed):
    figures = stats(client, **{"from": "2026-01-01", "to": "2026-01-03"})
    assert (figures["members"], figures["points_issued"], figures["orders"]) == (0, 0, 0)
    assert figures["redemption_rate"] is None and figures["loyalty_revenue"] == "0.00"
    assert figures["repeat_purchase_rate"] == {"members": None, "non_members": None}
    assert figures["outstanding_value"] == "0.00"  # the default catalog has an amount-off reward
    assert [row["date"] for row in figures["series"]] == ["2026-01-01", "2026-01-02", "2026-01-03"]


def test_without_an_active_amount_off_reward_the_liability_is_null(client, send):
    send("orders/paid", order(subtotal="70.00"))
    for reward in api(client, "get", "/api/rewards", {})["rewards"]:
        if reward["kind"] == "amount_off":
            api(client, "patch", f"/api/rewards/{reward['id']}", {"active": False})
    figures = stats(client)
    assert figures["points_outstanding"] == 70 and figures["outstanding_value"] is None


# Period edges: 2026-03-01 .. 2026-03-31, both included.
BEFORE = datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=timezone.utc)
FIRST = datetime(2026, 3, 1, tzinfo=timezone.utc)
LAST = datetime(2026, 3, 31, 23, 59, 59, tzinfo=timezone.utc)
AFTER = datetime(2026, 4, 1, tzinfo=timezone.utc)
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def entry(session, member_id: int, delta: int, at: datetime, kind: EntryKind = EntryKind.SIGNUP_BONUS) -> None:
    session.add(LedgerEntry(shop_id=session.get(Member, member_id).shop_id, member_id=member_id, delta=delta,
                            kind=kind, source_id=uuid.uuid4().hex, reason="dated by the test", created_at=at))


@pytest.fixture
def dated(app, client, installed, send):
    """Four customers who joined, were credited and paid at the four edge times."""
    send("orders/paid", order(customer_id=9999, subtotal="1.00"), shop=OTHER_SHOP)
    moments = {7101: BEFORE, 7102: FIRST, 7103: LAST, 7104: AFTER}
    api(client, "patch", "/api/program", {"excluded_order_tags": ["wholesale"]})  # only the dated entries earn
    for customer_id, at in moments.items():  # an order counts on its own time, whenever its webhook came
        send("orders/paid", order(order_id=customer_id, customer_id=customer_id, subtotal="5.00", tags="wholesale",
                                  processed_at=at.isoformat()))
    with app.app_context(), transaction() as session:
        for (customer_id, at), delta in zip(moments.items(), (1, 2, 4, 8)):
            found = session.query(Member).filter_by(customer_id=customer_id).one()
            found.created_at = at
            entry(session, found.id, delta, at)
            entry(session, found.id, -16 * delta, at, EntryKind.REDEMPTION)
    return moments


def test_an_entry_at_23_59_59_on_the_last_day_counts_and_one_at_midnight_after_does_not(client, dated):
    figures = stats(client, **MARCH)
    assert figures["points_issued"] == 2 + 4 and figures["points_redeemed"] == 32 + 64
    assert figures["members"] == 3 and figures["new_members"] == 2  # 7101 joined before, 7104 after
    assert figures["orders"] == 2
    by_day = {row["date"]: row for row in figures["series"]}
    assert len(by_day) == 31
    assert by_day["2026-03-01"] == {"date": "2026-03-01", "points_issued": 2, "points_redeemed": 32, "points_expired": 0,
                                    "new_members": 1, "orders": 1}
    assert by_day["2026-03-31"] == {"date": "2026-03-31", "points_issued": 4, "points_redeemed": 64, "points_expired": 0,
                                    "new_members": 1, "orders": 1}
    assert sum(row["points_issued"] for row in figures["series"]) == 6


def test_the_day_after_starts_at_midnight(client, dated):
    april = stats(client, **{"from": "2026-04-01", "to": "2026-04-01"})
    assert (april["points_issued"], april["members"], april["new_members"], april["orders"]) == (8, 4, 1, 1)
    february = stats(client, **{"from": "2026-02-28", "to": "2026-02-28"})
    assert (february["points_issued"], february["members"], february["orders"]) == (1, 1, 1)


def test_a_customer_counts_as_member_once_they_have_earned_points(client, installed, send):
    api(client, "patch", "/api/program", {"excluded_order_tags": ["wholesale"]})
    for customer_id in (7001, 7001, 7002):
        send("orders/paid", order(customer_id=customer_id, subtotal="20.00", tags="wholesale"))
    figures = stats(client)
    assert figures["ordering_customers"] == {"members": 0, "non_members": 2, "guest_orders": 0}
    assert figures["repeat_purchase_rate"] == {"members": None, "non_members": "0.5000"}
    api(client, "post", "/api/members/7001/adjustments", {"points": 5, "reason": "welcome"})
    figures = stats(client)
    assert figures["ordering_customers"] == {"members": 1, "non_members": 1, "guest_orders": 0}
    assert figures["repeat_purchase_rate"] == {"members": "1.0000", "non_members": "0.0000"}
    api(client, "post", "/api/members/7001/adjustments", {"points": -5, "reason": "taken back"})
    assert stats(client)["ordering_customers"]["members"] == 1  # having earned is what counts


def test_cancelled_orders_and_unpaid_order_rows_are_not_paid_orders(client, send):
    paid = order(customer_id=7001, subtotal="30.00")
    send("refunds/create", refund(4242, "5.00"))
    send("orders/cancelled", {**order(order_id=4343), "cancelled_at": utcnow().isoformat()})
    send("orders/paid", paid)
    assert stats(client)["orders"] == 1  # 4242 and 4343 were only named by a refund and a cancel
    send("orders/cancelled", {**paid, "cancelled_at": utcnow().isoformat()})
    figures = stats(client)
    assert figures["orders"] == 0 and figures["points_issued"] == 30 and figures["points_redeemed"] == 0


def test_the_order_total_is_read_in_shop_money_and_a_bad_one_costs_no_points(app, client, send):
    send("orders/paid", order(order_id=501, subtotal="10.00", total_price="12.00",
                              total_price_set={"shop_money": {"amount": "11.25", "currency_code": "USD"},
                                               "presentment_money": {"amount": "15.00", "currency_code": "CAD"}}))
    send("orders/paid", order(order_id=502, subtotal="10.00", total_price="lots"))
    send("orders/paid", {key: value for key, value in order(order_id=503, subtotal="10.00").items()
                         if key != "total_price"})
    with app.app_context(), transaction() as session:
        rows = {row.order_id: row for row in session.query(OrderRecord)}
    assert {key: rows[key].total_price for key in rows} == {501: Decimal("11.25"), 502: None, 503: Decimal(0)}
    assert all(row.paid_at is not None and row.earned_points == 10 for row in rows.values())


@pytest.mark.parametrize("query, fields", [
    ({"from": "2026-13-01"}, {"from"}),
    ({"from": "20260101"}, {"from"}),
    ({"from": "2026-02-30", "to": "2026-03-01"}, {"from"}),
    ({"to": "yesterday"}, {"to"}),
    ({"to": "2026-01-01T00:00:00"}, {"to"}),
    ({"from": "1 March", "to": "2 March"}, {"from", "to"}),
    ({"from": "2026-03-02", "to": "2026-03-01"}, {"from"}),
    ({"from": "2025-01-01", "to": "2026-01-02"}, {"to"}),  # 367 days
    ({"from": "1969-12-31", "to": "1970-01-01"}, {"from"}),
])
def test_bad_periods_get_422_with_a_message_per_field(client, installed, query, fields):
    response = client.get("/api/stats", query_string=query, headers=auth())
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid period" and set(body["fields"]) == fields and all(body["fields"].values())


def test_a_leap_year_of_366_days_is_the_longest_period(client, installed):
    figures = stats(client, **{"from": "2024-01-01", "to": "2024-12-31"})
    assert len(figures["series"]) == 366 and figures["series"][59]["date"] == "2024-02-29"


def count_statements(app, client, query: dict) -> int:
    seen = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    engine = app.extensions["engine"]
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        assert client.get("/api/stats", query_string=query, headers=auth()).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    return len(seen)


def test_the_figures_take_a_fixed_small_number_of_queries_however_many_rows(app, client, send):
    year = {"from": (utcnow().date() - timedelta(days=365)).isoformat()}
    send("orders/paid", order(customer_id=7001, subtotal="5.00"))
    few = count_statements(app, client, year)
    for customer_id in range(7002, 7022):
        send("orders/paid", order(customer_id=customer_id, subtotal="5.00"))
        send("orders/paid", order(customer_id=customer_id, subtotal="6.00"))
    assert count_statements(app, client, year) == few <= 10


def test_the_charts_are_accessible_self_contained_svg(client, history):
    charts = stats(client)["charts"]
    assert set(charts) == {"points", "members", "orders"}
    for svg in charts.values():
        root = ElementTree.fromstring(svg)  # well-formed XML
        ns = "{http://www.w3.org/2000/svg}"
        assert root.tag == f"{ns}svg" and root.get("viewBox") == "0 0 640 280" and root.get("role") == "img"
        assert root.find(f"{ns}title").text and root.find(f"{ns}desc").text
        labels = [text.text for text in root.iter(f"{ns}text")]
        assert "Day (UTC)" in labels and {"Points", "Members", "Orders"} & set(labels)
        lowered = svg.lower()
        assert "<script" not in lowered and "<style" not in lowered and "style=" not in lowered
        assert "href" not in lowered and "url(" not in lowered
        assert "http" not in lowered.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "285 points issued and 100 redeemed" in charts["points"]
    assert "9 paid orders" in charts["orders"]


def test_chart_texts_with_markup_are_escaped_not_parsed():
    svg = line_chart('x" onload="alert(1)', "<script>alert('t')</script> & co", "A <b>bold</b> claim",
                     [date(2026, 1, 1), date(2026, 1, 2)], [Series("<img src=x onerror=alert(1)>", [1, 2])],
                     "</text><script>alert(2)</script>")
    assert "<script" not in svg and "<img" not in svg and "<b>" not in svg
    assert "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt; &amp; co" in svg
    root = ElementTree.fromstring(svg)
    assert root.get("aria-labelledby") == 'x" onload="alert(1)-title x" onload="alert(1)-desc'
    assert root.get("onload") is None


def test_days_are_the_shops_and_orders_count_on_their_own_time(app, client, send):
    """Kiritimati is UTC+14: 11:00 UTC on March 1 is already March 2 there."""
    send("shop/update", {"id": 1, "myshopify_domain": SHOP, "iana_timezone": "Pacific/Kiritimati"})
    send("orders/paid", order(customer_id=7001, subtotal="5.00", processed_at="2026-03-01T05:00:00Z"))
    send("orders/paid", order(customer_id=7001, subtotal="7.00", processed_at="2026-03-01T11:00:00Z"))
    with app.app_context(), transaction() as session:
        member = session.query(Member).filter_by(shop_id=session.query(Member.shop_id).scalar()).one()
        entry(session, member.id, 3, datetime(2026, 3, 1, 9, 59, 59, tzinfo=timezone.utc))  # 23:59:59 local
        entry(session, member.id, 4, datetime(2026, 3, 1, 10, tzinfo=timezone.utc))  # local midnight: March 2
    first = stats(client, **{"from": "2026-03-01", "to": "2026-03-01"})
    assert (first["zone"], first["orders"], first["points_issued"]) == ("Pacific/Kiritimati", 1, 3)
    second = stats(client, **{"from": "2026-03-02", "to": "2026-03-02"})
    assert (second["orders"], second["points_issued"]) == (1, 4)
    assert "Day (Pacific/Kiritimati)" in second["charts"]["orders"]
