"""Where the features meet: points lifecycle, tiers, referrals, birthdays and member events
together, worked through signed webhooks, the API and `tick --now`, with the member's
balance, pending points and tier after each step, and `verify-ledger` plus the lot
invariants at the end (for each member: spendable lots hold at least a non-negative
balance, pending lots hold exactly the pending points)."""
from sqlalchemy import func, select

from plugin.db import transaction
from plugin.models import Member, PointLot
from tests.helpers import auth, member, order


def tick(app, now: str) -> str:
    result = app.test_cli_runner().invoke(args=["tick", "--now", now])
    assert result.exit_code == 0, result.output
    return result.output


def verify(app) -> None:
    result = app.test_cli_runner().invoke(args=["verify-ledger"])
    assert result.exit_code == 0, result.output
    with app.app_context(), transaction() as session:
        for m in session.scalars(select(Member)):
            spendable = session.scalar(select(func.coalesce(func.sum(PointLot.remaining), 0)).where(
                PointLot.member_id == m.id, PointLot.pending_until.is_(None)))
            pending = session.scalar(select(func.coalesce(func.sum(PointLot.remaining), 0)).where(
                PointLot.member_id == m.id, PointLot.pending_until.is_not(None)))
            assert int(pending) == m.pending, (m.customer_id, pending, m.pending)
            if m.balance >= 0:
                assert int(spendable) >= m.balance, (m.customer_id, spendable, m.balance)


def program(client, **settings) -> None:
    response = client.patch("/api/program", json=settings, headers=auth())
    assert response.status_code == 200, response.get_json()


def adjust(client, points: int, customer_id: int = 7001) -> None:
    response = client.post(f"/api/members/{customer_id}/adjustments", json={"points": points, "reason": "test"},
                           headers=auth())
    assert response.status_code in (200, 201), response.get_json()


def events(client, kind: str) -> list[dict]:
    return client.get("/api/member-events", query_string={"kind": kind}, headers=auth()).get_json()["events"]


def points(client, customer_id: int = 7001) -> tuple[int, int]:
    found = member(client, customer_id)
    return found["balance"], found["pending"]


def paid(send, when: str, subtotal: str, customer_id: int = 7001, **fields) -> dict:
    payload = order(customer_id=customer_id, subtotal=subtotal, processed_at=when, **fields)
    send("orders/paid", payload)
    return payload


def test_fifo_a_debt_left_by_a_cancellation_is_paid_by_the_oldest_points_not_the_newest(app, client, send,
                                                                                        installed):
    program(client, expiry_policy="fifo", expiry_months=1, expiry_reminder_days=0)
    first = paid(send, "2026-03-01T10:00:00Z", "100.00")
    adjust(client, -100)                          # spends the first order's lot
    assert points(client) == (0, 0)
    send("orders/cancelled", {**first, "cancelled_at": "2026-03-02T10:00:00Z"})
    assert points(client) == (-100, 0)            # owed: the order's points were already used
    paid(send, "2026-03-05T10:00:00Z", "30.00")   # pays 30 of the debt
    paid(send, "2026-03-20T10:00:00Z", "150.00")  # pays the other 70: 80 of it are left
    assert points(client) == (80, 0)
    assert member(client)["next_expiry"] == {"points": 80, "expires_at": "2026-04-20"}
    program(client, expiry_reminder_days=30)
    tick(app, "2026-03-21T12:00:00Z")             # both dates within 30 days: only the one that takes points
    assert [(e["data"]["points"], e["data"]["expires_at"]) for e in events(client, "points_expiring")] == [
        (80, "2026-04-20")]
    tick(app, "2026-04-05T12:00:00Z")             # the 5 March order's date: its points paid the debt
    assert points(client) == (80, 0)
    tick(app, "2026-04-20T12:00:00Z")             # the 20 March order's date: what is left of it expires
    assert points(client) == (0, 0)
    verify(app)
