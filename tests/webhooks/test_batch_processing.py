"""Events drained as one batch end exactly where one-by-one processing ends."""
import pytest
from sqlalchemy import event as sa_event

from plugin.schedule import sweep_once
from tests.helpers import auth, install, member, order, refund, signed_webhook
from webhooks.processing import drain_due_events

ANA, BEN, CLEO = 9101, 9102, 9103


def deliveries() -> list[tuple[str, dict]]:
    known_first = order(order_id=700, customer_id=CLEO, subtotal="80.00")
    return [
        ("refunds/create", refund(700, "30.00", refund_id=1)),       # arrives before its order
        *[("orders/paid", order(order_id=600 + n, customer_id=ANA if n % 2 else BEN, subtotal=f"{10 + n}.00"))
          for n in range(20)],
        ("orders/paid", order(order_id=600, customer_id=BEN, subtotal="10.00")),  # the same order again
        ("orders/paid", known_first),
        ("orders/paid", order(order_id=701, customer_id=None, subtotal="99.00")),  # guest
        ("orders/paid", order(order_id=702, customer_id=ANA, subtotal="50.00", tags="wholesale")),
        ("customers/create", {"id": CLEO, "email": "cleo@example.com", "first_name": "Cleo"}),
        ("orders/paid", order(order_id=703, customer_id=CLEO, subtotal="5.00")),
    ]


def expected() -> dict[int, int]:
    ana = sum(10 + n for n in range(20) if n % 2)
    ben = sum(10 + n for n in range(20) if not n % 2)
    return {ANA: ana, BEN: ben, CLEO: 80 - 30 + 5}


@pytest.mark.parametrize("mode", ["one batch", "one by one"])
def test_a_batch_of_mixed_deliveries_ends_with_the_same_exact_balances(inprocess_app, monkeypatch, mode):
    client = inprocess_app.test_client()
    install(client)  # /api serves only a shop it knows
    client.patch("/api/program", json={"excluded_order_tags": ["wholesale"]}, headers=auth())
    if mode == "one batch":
        monkeypatch.setattr("webhooks.intake.signal_drain", lambda trigger: None)
    for topic, payload in deliveries():
        assert signed_webhook(client, topic, payload).status_code == 200
    statements = []
    engine = inprocess_app.extensions["engine"]
    count = lambda *args: statements.append(1)  # noqa: E731
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        with inprocess_app.app_context():
            drain_due_events()
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    assert {c: member(client, c)["balance"] for c in (ANA, BEN, CLEO)} == expected()
    assert member(client, BEN)["lifetime_earned"] == expected()[BEN]
    assert member(client, CLEO)["first_name"] == "Cleo"
    assert inprocess_app.test_cli_runner().invoke(args=["verify-ledger"]).exit_code == 0
    if mode == "one batch":
        # 26 deliveries: a run of 21 paid orders costs a handful of statements, not 3 each.
        assert len(statements) < 60, len(statements)
    with inprocess_app.app_context():
        sweep_once()
    assert {c: member(client, c)["balance"] for c in (ANA, BEN, CLEO)} == expected()
