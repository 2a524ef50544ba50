"""Processing faults: retries with backoff, events that fail for good, and retry-failed."""
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from plugin.db import transaction, utcnow
from plugin.models import EventStatus, WebhookEvent
from tests.helpers import auth, balance, install, order, signed_webhook
from webhooks.handlers import orders_paid
from webhooks.processing import MAX_ATTEMPTS, drain_due_events


def the_event(app) -> WebhookEvent:
    with app.app_context(), transaction() as session:
        return session.scalars(select(WebhookEvent)).one()


def make_due(app) -> None:
    with app.app_context(), transaction() as session:
        session.execute(update(WebhookEvent).values(next_attempt_at=utcnow()))


@pytest.fixture
def flaky_award(monkeypatch):
    """orders/paid handling that fails with a database-style error until told otherwise."""
    state = {"failing": True}
    real_apply = orders_paid.apply

    def apply(session, shop, facts, delivery=None):
        real_apply(session, shop, facts, delivery)  # writes happen, then the failure must undo them
        if state["failing"]:
            raise RuntimeError("database went away mid-award")

    monkeypatch.setattr(orders_paid, "apply", apply)
    return state


def test_a_failing_event_is_retried_with_growing_backoff_then_marked_failed(inprocess_app, flaky_award):
    client = inprocess_app.test_client()
    assert signed_webhook(client, "orders/paid", order(subtotal="30.00")).status_code == 200
    delays = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        event = the_event(inprocess_app)
        assert event.attempts == attempt and "database went away" in event.last_error
        if attempt < MAX_ATTEMPTS:
            assert event.status is EventStatus.PENDING
            delays.append(round((event.next_attempt_at - utcnow()).total_seconds()))
            make_due(inprocess_app)
            with inprocess_app.app_context():
                drain_due_events()
    assert the_event(inprocess_app).status is EventStatus.FAILED
    assert delays == sorted(delays) and delays[0] >= 9 and delays[-1] >= 600
    assert balance(client) is None  # each failed try was rolled back whole


def test_retry_failed_lists_then_reprocesses_failed_events(inprocess_app, flaky_award):
    client = inprocess_app.test_client()
    signed_webhook(client, "orders/paid", order(subtotal="30.00"))
    with inprocess_app.app_context(), transaction() as session:
        session.execute(update(WebhookEvent).values(status=EventStatus.FAILED, attempts=MAX_ATTEMPTS))
    runner = inprocess_app.test_cli_runner()
    listed = runner.invoke(args=["retry-failed", "--list"])
    assert listed.exit_code == 0
    assert "orders/paid" in listed.output and "database went away" in listed.output and "1 failed event(s)" in listed.output
    flaky_award["failing"] = False
    retried = runner.invoke(args=["retry-failed"])
    assert retried.exit_code == 0 and "1 event(s) queued again" in retried.output
    assert the_event(inprocess_app).status is EventStatus.PROCESSED
    assert balance(client) == 30
    assert "0 failed event(s)" in runner.invoke(args=["retry-failed", "--list"]).output


def test_one_bad_event_in_a_batch_does_not_hold_back_the_others(inprocess_app, monkeypatch):
    client = inprocess_app.test_client()
    real_apply_many = orders_paid.apply_many

    def apply_many(session, shop, deliveries):
        real_apply_many(session, shop, deliveries)  # writes happen, then the failure must undo them
        if any(facts.order_id == 666 for facts, _ in deliveries):
            raise RuntimeError("poisoned order")

    monkeypatch.setattr("webhooks.intake.signal_drain", lambda trigger: None)  # queue up, then drain as one batch
    for order_id, subtotal in ((1, "10.00"), (666, "99.00"), (2, "5.00")):
        signed_webhook(client, "orders/paid", order(order_id=order_id, subtotal=subtotal))
    monkeypatch.setattr(orders_paid, "apply_many", apply_many)
    with inprocess_app.app_context():
        assert drain_due_events() == 3
        with transaction() as session:
            statuses = {'"id": 666' in e.payload: e.status for e in session.scalars(select(WebhookEvent))}
    assert statuses == {True: EventStatus.PENDING, False: EventStatus.PROCESSED}
    assert balance(client) == 15


def test_verify_ledger_reports_a_balance_that_disagrees_with_its_entries(app, client, settle, db):
    signed_webhook(client, "orders/paid", order(subtotal="30.00"))
    settle()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["verify-ledger"]).exit_code == 0
    db.execute(text("UPDATE members SET balance = balance + 1"))
    db.commit()
    result = runner.invoke(args=["verify-ledger"])
    assert result.exit_code == 1
    assert "balance 31 + pending 0 but entries sum to 30" in result.output


def test_the_ledger_refuses_edits(app, client, settle, db):
    signed_webhook(client, "orders/paid", order(subtotal="30.00"))
    settle()
    with pytest.raises(DBAPIError, match="append-only"):
        db.execute(text("UPDATE ledger_entries SET delta = 3000"))
    db.rollback()
    assert balance(client) == 30


def test_the_dev_token_command_prints_a_token_the_api_accepts(app, client):
    install(client, "demo-store.myshopify.com")  # /api serves only a shop it knows
    result = app.test_cli_runner().invoke(args=["dev-token", "--shop", "demo-store.myshopify.com"])
    assert result.exit_code == 0
    token = result.output.strip()
    assert client.get("/api/program", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    refused = app.test_cli_runner().invoke(args=["dev-token", "--shop", "evil.com"])
    assert refused.exit_code != 0


def test_retry_delays_grow_fourfold():
    from webhooks.processing import retry_delay

    assert [retry_delay(n) for n in (1, 2, 3)] == [timedelta(seconds=10), timedelta(seconds=40), timedelta(seconds=160)]


def test_a_deadlock_with_another_worker_is_retried_at_once_not_after_a_backoff(inprocess_app, monkeypatch):
    """PostgreSQL aborts one of two deadlocked transactions (SQLSTATE 40P01); it simply runs again."""
    client = inprocess_app.test_client()
    real_apply = orders_paid.apply
    aborted = []

    class Deadlock(Exception):
        sqlstate = "40P01"

    def apply(session, shop, facts, delivery=None):
        real_apply(session, shop, facts, delivery)
        if len(aborted) < 2:
            aborted.append(1)
            raise DBAPIError("INSERT ...", {}, Deadlock("deadlock detected"))

    monkeypatch.setattr(orders_paid, "apply", apply)
    assert signed_webhook(client, "orders/paid", order(subtotal="12.00")).status_code == 200
    event = the_event(inprocess_app)
    assert (event.status, event.attempts, len(aborted)) == (EventStatus.PROCESSED, 1, 2)
    assert balance(client) == 12


def test_verify_ledger_reports_pending_points_that_their_lots_do_not_hold(app, client, settle, db, installed):
    client.patch("/api/program", json={"pending_days": 30}, headers=auth())
    signed_webhook(client, "orders/paid", order(subtotal="30.00", processed_at=utcnow().isoformat()))
    settle()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["verify-ledger"]).exit_code == 0
    # Points moved from pending to the balance without their lot: the sum still agrees, the lots do not.
    db.execute(text("UPDATE members SET pending = pending - 5, balance = balance + 5"))
    db.commit()
    result = runner.invoke(args=["verify-ledger"])
    assert result.exit_code == 1 and "pending 25 but pending lots hold 30" in result.output


@pytest.mark.parametrize("queues", ["bogus", "webhooks,bogus", ","])
def test_a_worker_asked_for_an_unknown_queue_refuses_to_start(app, queues):
    result = app.test_cli_runner().invoke(args=["worker", "--queues", queues])
    assert result.exit_code == 2 and "must name queues among webhooks, platform, events" in result.output
