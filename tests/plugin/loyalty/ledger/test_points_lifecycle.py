"""Pending points and expiry, worked through with the payloads' own times and `tick --now`.

Every example states the member's balance (spendable) and pending points after each step,
and ends with `verify-ledger`. Shops here have no time zone yet, so business dates are UTC.
Fixed dates lie in the future (2028 on): on PostgreSQL the real workers run the scheduled
tick at today's time, which must find nothing of these examples due.
"""
from datetime import timedelta

import pytest

from plugin.db import utcnow
from tests.helpers import auth, member, order, refund, table_counts
from tests.plugin.loyalty.rewards.test_redemptions import GRAPHQL, created, redeem, reward_id


def tick(app, now: str):
    result = app.test_cli_runner().invoke(args=["tick", "--now", now])
    assert result.exit_code == 0, result.output
    return result.output


def verify(app):
    result = app.test_cli_runner().invoke(args=["verify-ledger"])
    assert result.exit_code == 0, result.output


def program(client, **settings):
    response = client.patch("/api/program", json=settings, headers=auth())
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def points(client, customer_id: int = 7001) -> tuple[int, int]:
    found = member(client, customer_id)
    return found["balance"], found["pending"]


def paid(send, when: str, subtotal: str, order_id: int | None = None, customer_id: int = 7001) -> dict:
    payload = order(order_id=order_id, customer_id=customer_id, subtotal=subtotal, processed_at=when)
    send("orders/paid", payload)
    return payload


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def events(client, kind: str) -> list[dict]:
    return client.get("/api/member-events", query_string={"kind": kind}, headers=auth()).get_json()["events"]


# Pending points ---------------------------------------------------------------------------

def test_pending_points_wait_out_the_window_and_a_refund_takes_them_first(app, client, send, platform):
    program(client, pending_days=14)
    placed = utcnow() + timedelta(days=1)  # the order's own time; the window runs from it
    first = paid(send, iso(placed), "100.00")
    assert points(client) == (0, 100)
    platform.post(GRAPHQL, json=created())
    rid = reward_id(client, points_cost=50)
    refused = redeem(client, rid)
    assert refused.status_code == 409 and points(client) == (0, 100)  # pending points cannot be spent
    send("refunds/create", refund(first["id"], "30.00"))
    assert points(client) == (0, 70)  # the refund took the order's pending points
    tick(app, iso(placed + timedelta(days=14) - timedelta(seconds=1)))
    assert points(client) == (0, 70)
    out = tick(app, iso(placed + timedelta(days=14)))
    assert "pending_released 1" in out and points(client) == (70, 0)
    assert "pending_released 0" in tick(app, iso(placed + timedelta(days=14)))
    assert points(client) == (70, 0)
    assert redeem(client, rid).status_code == 201 and points(client) == (20, 0)
    send("refunds/create", refund(first["id"], "30.00"))
    assert points(client) == (-10, 0)  # released points are taken from the balance, which may go below 0
    verify(app)


def test_an_order_whose_window_closed_before_it_arrived_is_spendable_at_once(client, send, installed, app):
    program(client, pending_days=14)
    paid(send, iso(utcnow() - timedelta(days=20)), "40.00")
    paid(send, iso(utcnow() - timedelta(days=2)), "25.00")
    assert points(client) == (40, 25)
    send("orders/cancelled", {**order(order_id=None), "id": 1})  # an unknown order: nothing moves
    assert points(client) == (40, 25)
    verify(app)


def test_a_cancellation_of_a_pending_order_takes_only_its_pending_points(client, send, installed, app):
    program(client, pending_days=30)
    spendable = paid(send, iso(utcnow() - timedelta(days=40)), "60.00")
    waiting = paid(send, iso(utcnow()), "45.00")
    assert points(client) == (60, 45)
    send("orders/cancelled", {**waiting, "cancelled_at": iso(utcnow())})
    assert points(client) == (60, 0)
    send("orders/cancelled", {**spendable, "cancelled_at": iso(utcnow())})
    assert points(client) == (0, 0)
    verify(app)


def test_a_cancellation_that_arrives_before_its_pending_order_leaves_nothing_pending(client, send, installed, app):
    program(client, pending_days=30)
    early = order(subtotal="80.00", processed_at=iso(utcnow()))
    send("orders/cancelled", {**early, "cancelled_at": iso(utcnow())})
    send("orders/paid", early)
    assert points(client) == (0, 0)
    tick(app, iso(utcnow() + timedelta(days=31)))
    assert points(client) == (0, 0)
    verify(app)


# fifo ---------------------------------------------------------------------------------------

def test_fifo_a_lot_expires_on_its_exact_date_and_a_second_tick_changes_nothing(app, client, send, installed):
    program(client, expiry_policy="fifo", expiry_months=1, expiry_reminder_days=0)
    paid(send, "2030-03-31T12:00:00Z", "120.00")   # 31 March + 1 month: 30 April
    paid(send, "2030-04-10T08:00:00Z", "30.00")    # expires 10 May
    assert points(client) == (150, 0)
    tick(app, "2030-04-29T23:59:59Z")
    assert points(client) == (150, 0)
    assert "points_expired 1" in tick(app, "2030-04-30T00:00:00Z")
    assert points(client) == (30, 0)
    entry = member(client)["ledger"][0]
    assert entry["kind"] == "expiry" and entry["delta"] == -120
    assert entry["reason"] == "120 points earned in March 2030 expired"
    assert "points_expired 0" in tick(app, "2030-04-30T00:00:00Z")
    assert points(client) == (30, 0)
    assert member(client)["next_expiry"] == {"points": 30, "expires_at": "2030-05-10"}
    tick(app, "2030-05-10T00:00:00Z")
    assert points(client) == (0, 0) and member(client)["next_expiry"] is None
    assert [e["data"] for e in events(client, "points_expired")] == [{"points": 30}, {"points": 120}]
    verify(app)


def test_fifo_spending_uses_the_oldest_lot_first(app, client, send, platform):
    program(client, expiry_policy="fifo", expiry_months=12, expiry_reminder_days=0)
    paid(send, "2029-01-15T10:00:00Z", "100.00")   # lot A, expires 2030-01-15
    paid(send, "2029-06-15T10:00:00Z", "200.00")   # lot B, expires 2030-06-15
    platform.post(GRAPHQL, json=created())
    assert redeem(client, reward_id(client, points_cost=150)).status_code == 201
    assert points(client) == (150, 0)  # A gave 100, B 50
    tick(app, "2030-01-15T00:00:00Z")
    assert points(client) == (150, 0)  # A was spent: nothing of it is left to expire
    tick(app, "2030-06-15T00:00:00Z")
    assert points(client) == (0, 0)    # what was left of B
    assert member(client)["ledger"][0]["delta"] == -150
    verify(app)


def test_fifo_a_refund_of_a_two_year_old_order_takes_only_what_did_not_expire(app, client, send, installed):
    program(client, expiry_policy="fifo", expiry_months=12, expiry_reminder_days=0)
    old = paid(send, "2028-10-01T10:00:00Z", "100.00")
    recent = paid(send, "2030-10-01T10:00:00Z", "50.00")
    tick(app, "2030-11-01T00:00:00Z")
    assert points(client) == (50, 0)   # the 2028 order's points expired in October 2029
    send("refunds/create", refund(old["id"], "100.00"))
    assert points(client) == (50, 0)   # its points are gone already: the refund takes nothing more
    send("refunds/create", refund(recent["id"], "20.00"))
    assert points(client) == (30, 0)   # a refund takes its own order's points
    tick(app, "2031-10-01T00:00:00Z")
    assert points(client) == (0, 0)
    verify(app)


def test_fifo_a_code_that_expires_unused_returns_points_to_the_lots_it_used(app, client, send, platform):
    program(client, expiry_policy="fifo", expiry_months=12, expiry_reminder_days=0)
    paid(send, iso(utcnow() - timedelta(days=330)), "100.00")   # lot A: expires in about 35 days
    paid(send, iso(utcnow() - timedelta(days=30)), "100.00")    # lot B: in about 11 months
    platform.post(GRAPHQL, json=created())
    assert redeem(client, reward_id(client, points_cost=100, code_lifetime_days=1)).status_code == 201
    assert points(client) == (100, 0)  # spent from A, the oldest
    tick(app, iso(utcnow() + timedelta(days=3)))   # the code expires unused: its 100 points come back
    assert points(client) == (200, 0)
    # They went back to lot A with its date, so they expire with it, not a year from the return.
    tick(app, iso(utcnow() + timedelta(days=40)))
    assert points(client) == (100, 0)
    tick(app, iso(utcnow() + timedelta(days=340)))
    assert points(client) == (0, 0)
    verify(app)


def test_fifo_reminders_are_recorded_once_per_member_and_expiry_date(app, client, send, installed):
    program(client, expiry_policy="fifo", expiry_months=12, expiry_reminder_days=14)
    paid(send, "2030-03-10T10:00:00Z", "100.00")   # expires 2031-03-10
    tick(app, "2031-02-23T12:00:00Z")
    assert events(client, "points_expiring") == []
    assert "expiry_reminders 1" in tick(app, "2031-02-24T00:00:00Z")
    assert "expiry_reminders 0" in tick(app, "2031-02-24T06:00:00Z")
    assert "expiry_reminders 0" in tick(app, "2031-03-01T06:00:00Z")
    [reminder] = events(client, "points_expiring")
    assert reminder["data"] == {"points": 100, "expires_at": "2031-03-10"} and reminder["customer_id"] == "7001"
    tick(app, "2031-03-10T00:00:00Z")
    assert points(client) == (0, 0) and [e["data"] for e in events(client, "points_expired")] == [{"points": 100}]


# inactivity ---------------------------------------------------------------------------------

def test_inactivity_expires_the_whole_balance_and_a_redemption_resets_the_clock(app, client, send, platform):
    program(client, expiry_policy="inactivity", expiry_months=12, expiry_reminder_days=0)
    placed = utcnow() - timedelta(days=200)
    paid(send, iso(placed), "300.00")
    assert points(client) == (300, 0)
    platform.post(GRAPHQL, json=created())
    assert redeem(client, reward_id(client, points_cost=100)).status_code == 201   # activity today
    assert points(client) == (200, 0)
    tick(app, iso(placed + timedelta(days=400)))  # a year after the order, but not after the redemption
    assert points(client) == (200, 0)
    tick(app, iso(utcnow() + timedelta(days=367)))
    assert points(client) == (0, 0)
    entry = member(client)["ledger"][0]
    assert entry["kind"] == "expiry" and entry["delta"] == -200
    assert entry["reason"] == "200 points expired after 12 months without earning or redeeming"
    assert "points_expired 0" in tick(app, iso(utcnow() + timedelta(days=367)))
    verify(app)


def test_inactivity_an_order_resets_the_clock_by_its_own_time(app, client, send, installed):
    program(client, expiry_policy="inactivity", expiry_months=6, expiry_reminder_days=10)
    paid(send, "2029-01-05T10:00:00Z", "50.00")
    paid(send, "2029-05-20T10:00:00Z", "10.00")   # activity: expiry moves to 2029-11-20
    tick(app, "2029-07-05T00:00:00Z")
    assert points(client) == (60, 0)
    assert "expiry_reminders 1" in tick(app, "2029-11-10T00:00:00Z")
    assert events(client, "points_expiring")[0]["data"] == {"points": 60, "expires_at": "2029-11-20"}
    tick(app, "2029-11-19T23:59:00Z")
    assert points(client) == (60, 0)
    tick(app, "2029-11-20T00:00:00Z")
    assert points(client) == (0, 0)
    verify(app)


# the tick itself ----------------------------------------------------------------------------

def test_a_tick_that_dies_in_the_middle_of_expiring_changes_nothing_and_the_next_one_finishes(
        app, client, send, installed, monkeypatch):
    from plugin.loyalty.ledger import lifecycle

    program(client, expiry_policy="fifo", expiry_months=1, expiry_reminder_days=0)
    for customer in (7001, 7002, 7003):
        paid(send, "2030-01-10T10:00:00Z", "10.00", customer_id=customer)

    def die(*args, **kwargs):
        raise RuntimeError("killed between the entries and the events")

    monkeypatch.setattr(lifecycle, "record_events", die)
    result = app.test_cli_runner().invoke(args=["tick", "--now", "2030-03-01T00:00:00Z"])
    assert result.exit_code != 0
    assert [points(client, c) for c in (7001, 7002, 7003)] == [(10, 0)] * 3
    monkeypatch.undo()
    assert "points_expired 3" in tick(app, "2030-03-01T00:00:00Z")
    assert [points(client, c) for c in (7001, 7002, 7003)] == [(0, 0)] * 3
    assert len(events(client, "points_expired")) == 3
    verify(app)


def test_two_ticks_started_at_once_expire_points_once(app, client, send, installed):
    from plugin.loyalty.tick import TickRunning, run_tick
    from tests.helpers import all_at_once

    program(client, expiry_policy="fifo", expiry_months=1, expiry_reminder_days=0)
    for customer in range(7001, 7011):
        paid(send, "2030-01-10T10:00:00Z", "10.00", customer_id=customer)
    moment = utcnow().replace(year=2030, month=3, day=1)

    def one_tick(_):
        with app.app_context():
            try:
                return run_tick(moment)["points_expired"]
            except TickRunning:
                return "busy"

    outcomes = all_at_once(2, one_tick)
    assert sorted(map(str, outcomes)) in (["10", "busy"], ["0", "10"])
    assert [points(client, c) for c in range(7001, 7011)] == [(0, 0)] * 10
    assert len(events(client, "points_expired")) == 10
    verify(app)


# settings -----------------------------------------------------------------------------------

def test_the_lifecycle_settings_start_off_and_are_read_back(client, installed):
    settings = client.get("/api/program", headers=auth()).get_json()
    assert {k: settings[k] for k in ("pending_days", "expiry_policy", "expiry_months", "expiry_reminder_days")} == {
        "pending_days": 0, "expiry_policy": "never", "expiry_months": None, "expiry_reminder_days": 14}
    changed = program(client, pending_days=7, expiry_policy="fifo", expiry_months=18, expiry_reminder_days=0)
    assert (changed["pending_days"], changed["expiry_policy"], changed["expiry_months"],
            changed["expiry_reminder_days"]) == (7, "fifo", 18, 0)


@pytest.mark.parametrize("change, field", [
    ({"pending_days": -1}, "pending_days"),
    ({"pending_days": 366}, "pending_days"),
    ({"pending_days": "7"}, "pending_days"),
    ({"pending_days": True}, "pending_days"),
    ({"expiry_policy": "sometimes"}, "expiry_policy"),
    ({"expiry_policy": "fifo"}, "expiry_months"),
    ({"expiry_policy": "inactivity", "expiry_months": 0}, "expiry_months"),
    ({"expiry_policy": "fifo", "expiry_months": 121}, "expiry_months"),
    ({"expiry_policy": "fifo", "expiry_months": 1.5}, "expiry_months"),
    ({"expiry_reminder_days": 400}, "expiry_reminder_days"),
    ({"expiry_policy": "fifo", "expiry_months": 1, "pending_days": 30}, "pending_days"),
])
def test_bad_lifecycle_settings_are_refused_by_name_and_change_nothing(client, installed, db, change, field):
    before_program = client.get("/api/program", headers=auth()).get_json()
    before = table_counts(db)
    response = client.patch("/api/program", json=change, headers=auth())
    assert response.status_code == 422 and field in response.get_json()["fields"], response.get_json()
    assert client.get("/api/program", headers=auth()).get_json() == before_program
    assert table_counts(db) == before


def test_the_dashboard_counts_points_expired_in_the_period_and_pending_points_apart(app, client, send, installed):
    program(client, expiry_policy="fifo", expiry_months=1, expiry_reminder_days=0, pending_days=20)
    paid(send, iso(utcnow() - timedelta(days=90)), "70.00")   # spendable, and past its expiry date
    paid(send, iso(utcnow()), "30.00")                        # pending for 20 days
    stats = client.get("/api/stats", headers=auth()).get_json()
    assert (stats["points_expired"], stats["points_outstanding"], stats["points_pending"]) == (0, 70, 30)
    tick(app, iso(utcnow()))
    stats = client.get("/api/stats", headers=auth()).get_json()
    assert (stats["points_expired"], stats["points_outstanding"], stats["points_pending"]) == (70, 0, 30)
    assert sum(day["points_expired"] for day in stats["series"]) == 70
