"""Churn risk, as worked examples: orders sent with their own `processed_at`, then
`flask --app plugin tick --now` plays the days that follow; each step states Ada's status
and what the tick raised (docs/at-risk.md has the definitions).
"""
import json
import time as clock
from datetime import date, datetime, time, timezone

import pytest

from plugin.loyalty.churn.recency import recency
from tests.helpers import SHOP, auth, customer, order, table_counts
from tests.receivers import Receiver

ADA = 7001


def tick(app, day: date, hour: int = 12) -> str:
    moment = datetime.combine(day, time(hour), tzinfo=timezone.utc)
    result = app.test_cli_runner().invoke(args=["tick", "--now", moment.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def status_on(app, day: date, customer_id: int = ADA) -> dict | None:
    """The member's figures as the tick sees them on `day` (the shop's zone is UTC here)."""
    from sqlalchemy import select

    from plugin.db import reading_session
    from plugin.models import Member

    with app.app_context(), reading_session() as session:
        figures = recency([session.scalar(select(Member.shop_id).where(Member.customer_id == customer_id))], day)
        row = session.execute(select(figures.c.status, figures.c.days_since, figures.c.usual_gap)
                              .join(Member, Member.id == figures.c.member_id)
                              .where(Member.customer_id == customer_id)).first()
    return None if row is None else {"status": row.status, "days_since": row.days_since, "gap": row.usual_gap}


def at_risk_events(client, customer_id: int = ADA) -> list[dict]:
    answer = client.get("/api/member-events", query_string={"kind": "member_at_risk", "customer_id": customer_id},
                        headers=auth())
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["events"]


def paid(send, day: str, customer_id: int = ADA, subtotal: str = "40.00", **fields) -> dict:
    payload = order(customer_id=customer_id, subtotal=subtotal, **{"processed_at": f"{day}T10:00:00Z", **fields})
    send("orders/paid", payload)
    return payload


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


@pytest.fixture
def ada(send, installed):
    send("customers/create", customer(ADA, "ada@example.com"))


def test_ada_crosses_into_at_risk_once_lapses_comes_back_and_crosses_again(app, client, send, ada):
    for day in ("2026-01-01", "2026-01-21", "2026-02-10"):
        paid(send, day)
    # Three order days over 40 days: a usual gap of 20; at risk past 30 days, lapsed past 60.
    assert status_on(app, date(2026, 2, 20)) == {"status": "active", "days_since": 10, "gap": 20}
    assert "members_at_risk 0" in tick(app, date(2026, 2, 20))
    assert "members_at_risk 0" in tick(app, date(2026, 3, 12))  # day 30: 1.5 gaps exactly, still active
    assert status_on(app, date(2026, 3, 12))["status"] == "active"
    assert "members_at_risk 1" in tick(app, date(2026, 3, 13))  # day 31: at risk
    assert status_on(app, date(2026, 3, 13)) == {"status": "at_risk", "days_since": 31, "gap": 20}
    [event] = at_risk_events(client)
    assert event["data"] == {"last_order_on": "2026-02-10", "days_since_last_order": 31, "usual_gap_days": 20,
                             "balance": 120}
    assert "members_at_risk 0" in tick(app, date(2026, 3, 13), hour=20)  # the same day again
    assert "members_at_risk 0" in tick(app, date(2026, 4, 11))  # day 60: still at risk, told once
    assert "members_at_risk 0" in tick(app, date(2026, 4, 12))  # day 61: lapsed
    assert status_on(app, date(2026, 4, 12))["status"] == "lapsed" and len(at_risk_events(client)) == 1
    paid(send, "2026-04-15")  # she comes back: four order days over 104 days, a gap of 35
    assert status_on(app, date(2026, 4, 20)) == {"status": "active", "days_since": 5, "gap": 35}
    assert "members_at_risk 0" in tick(app, date(2026, 4, 20))
    assert "members_at_risk 0" in tick(app, date(2026, 6, 6))  # day 52: 2 × 52 <= 3 × 35, active
    assert "members_at_risk 1" in tick(app, date(2026, 6, 7))  # day 53: at risk again, a new crossing
    newest, first = at_risk_events(client)
    assert newest["data"]["last_order_on"] == "2026-04-15" and newest["data"]["days_since_last_order"] == 53
    assert first["id"] == event["id"]
    assert "members_at_risk 0" in tick(app, date(2026, 6, 30))


def test_one_order_counts_a_usual_gap_of_30_days_and_close_orders_14(app, client, send, ada):
    send("customers/create", customer(7002, "grace@example.com", "Grace", "Hopper"))
    paid(send, "2026-01-01")  # Ada: one order day, a usual gap of 30
    for day in ("2026-01-01", "2026-01-02", "2026-01-05"):  # Grace: 4 days apart, floored at 14
        paid(send, day, customer_id=7002)
    assert status_on(app, date(2026, 1, 26), 7002) == {"status": "active", "days_since": 21, "gap": 14}  # 1.5 gaps
    assert "members_at_risk 0" in tick(app, date(2026, 1, 26))
    assert status_on(app, date(2026, 1, 27)) == {"status": "active", "days_since": 26, "gap": 30}
    assert status_on(app, date(2026, 1, 27), 7002) == {"status": "at_risk", "days_since": 22, "gap": 14}
    assert "members_at_risk 1" in tick(app, date(2026, 1, 27))  # Grace
    assert status_on(app, date(2026, 2, 15)) == {"status": "active", "days_since": 45, "gap": 30}
    assert "members_at_risk 0" in tick(app, date(2026, 2, 15))
    assert status_on(app, date(2026, 2, 17)) == {"status": "at_risk", "days_since": 47, "gap": 30}
    assert status_on(app, date(2026, 2, 17), 7002) == {"status": "lapsed", "days_since": 43, "gap": 14}
    assert "members_at_risk 1" in tick(app, date(2026, 2, 17))  # Ada
    assert [e["customer_id"] for e in at_risk_events(client, 7002)] == ["7002"]
    assert [e["customer_id"] for e in at_risk_events(client)] == [str(ADA)]


def test_days_are_counted_in_the_shops_zone(app, client, send, ada):
    send("shop/update", {"id": 1, "myshopify_domain": SHOP, "iana_timezone": "Pacific/Kiritimati"})  # UTC+14
    # 12:00 UTC on 1 January is 02:00 on 2 January in Kiritimati: the order's business day.
    paid(send, "2026-01-01", processed_at="2026-01-01T12:00:00Z")
    # 1.5 gaps after 2 January is 17 February (day 46) there; at 11:00 UTC on 16 February it already is.
    assert "members_at_risk 0" in tick(app, date(2026, 2, 16), hour=9)  # 23:00 on the 16th: day 45
    assert "members_at_risk 1" in tick(app, date(2026, 2, 16), hour=11)  # 01:00 on the 17th: day 46
    assert at_risk_events(client)[0]["data"]["last_order_on"] == "2026-01-02"


def test_a_cancelled_order_is_no_order_and_a_customer_without_orders_has_no_status(app, client, send, ada):
    send("customers/create", customer(7002, "grace@example.com", "Grace", "Hopper"))
    paid(send, "2026-01-01")
    late = paid(send, "2026-02-01")
    send("orders/cancelled", {**late, "cancelled_at": "2026-02-02T10:00:00Z"})
    assert status_on(app, date(2026, 2, 16)) == {"status": "at_risk", "days_since": 46, "gap": 30}
    assert status_on(app, date(2026, 2, 16), 7002) is None
    assert "members_at_risk 1" in tick(app, date(2026, 2, 16))
    assert [e["customer_id"] for e in at_risk_events(client)] == [str(ADA)] and at_risk_events(client, 7002) == []


def test_a_redacted_member_is_never_told_at_risk(app, client, send, ada, db):
    send("customers/create", customer(7002, "grace@example.com", "Grace", "Hopper"))
    paid(send, "2026-01-01")
    paid(send, "2026-01-01", customer_id=7002)
    send("customers/redact", {"shop_id": 1, "shop_domain": SHOP, "customer": {"id": 7002, "email": "grace@example.com"},
                              "orders_to_redact": []})
    before = table_counts(db)
    assert "members_at_risk 1" in tick(app, date(2026, 2, 16))
    after = table_counts(db)
    assert after["member_events"] == before["member_events"] + 1
    assert at_risk_events(client, 7002) == [] and len(at_risk_events(client)) == 1


def test_the_crossing_reaches_the_merchants_endpoint_once(app, client, send, ada, receiver):
    made = client.post("/api/event-subscriptions", json={"url": receiver.url, "kinds": ["member_at_risk"]},
                       headers=auth())
    assert made.status_code == 201, made.get_json()
    paid(send, "2026-01-01")
    assert "members_at_risk 1" in tick(app, date(2026, 2, 16))  # day 46 of a 30-day gap
    assert "members_at_risk 0" in tick(app, date(2026, 2, 17))
    [(headers, body, _)] = receiver.wait_for(1)
    [event] = at_risk_events(client)
    assert headers["X-Loyalty-Event-Kind"] == "member_at_risk" and headers["X-Loyalty-Event-Id"] == str(event["id"])
    assert json.loads(body) == {**event, "shop": SHOP}
    assert event["data"] == {"last_order_on": "2026-01-01", "days_since_last_order": 46, "usual_gap_days": 30,
                             "balance": 40}
    clock.sleep(0.5)
    assert len(receiver.received) == 1


def test_each_shop_is_checked_once_a_business_day_so_a_cancellation_is_told_the_next_day(app, client, send, ada):
    paid(send, "2026-01-01")
    late = paid(send, "2026-02-01")
    assert "members_at_risk 0" in tick(app, date(2026, 2, 16))  # two order days, gap 31, day 15: active
    send("orders/cancelled", {**late, "cancelled_at": "2026-02-16T13:00:00Z"})
    assert status_on(app, date(2026, 2, 16)) == {"status": "at_risk", "days_since": 46, "gap": 30}
    assert "members_at_risk 0" in tick(app, date(2026, 2, 16), hour=18)  # already checked today
    assert at_risk_events(client) == []
    assert "members_at_risk 1" in tick(app, date(2026, 2, 17), hour=0)
    assert at_risk_events(client)[0]["data"]["days_since_last_order"] == 47
