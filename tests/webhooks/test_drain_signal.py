"""Intake asks Redis for a drain at most once per short window per process, and loses nothing.

Before, every accepted webhook sent a Redis SET (the drain flag); under a burst that round
trip was most of what a request cost beyond its INSERT. Now a process that asked less than
SIGNAL_WINDOW_SECONDS ago stays silent, and every drain job reads once more a full window
after it clears the flag, so the silent process's event is still drained without the
sweeper. Redis only: without it each request drains in-process, as before.
"""
import threading
import time
import uuid

import pytest
from sqlalchemy import func, select

from plugin import create_app
from plugin.db import transaction
from plugin.models import EventStatus, WebhookEvent
from plugin.queue import queue, redis_connection
from tests.conftest import SERVICES, app_config
from tests.helpers import balance, order, signed_webhook
from webhooks import jobs

pytestmark = pytest.mark.skipif(not SERVICES, reason="the signal is a Redis command: runs in the services pass")


def counting_sets(app) -> list:
    """The Redis SET commands the app's own client sends from now on (the drain flag's)."""
    sent = []
    with app.app_context():
        connection = redis_connection()
    original = connection.execute_command

    def counted(*args, **kwargs):
        if args and str(args[0]).upper() == "SET":
            sent.append(args[1])
        return original(*args, **kwargs)

    connection.execute_command = counted
    return sent


def pending(app) -> int:
    with app.app_context(), transaction() as session:
        return session.scalar(select(func.count()).select_from(WebhookEvent).where(
            WebhookEvent.status == EventStatus.PENDING))


def test_a_burst_asks_for_a_drain_once_per_window_and_every_order_lands(app, client, settle):
    sent = counting_sets(app)
    started = time.monotonic()
    try:
        for n in range(30):
            response = signed_webhook(client, "orders/paid", order(order_id=40_000 + n, subtotal="2.00"))
            assert response.status_code == 200
    finally:
        elapsed = time.monotonic() - started
        with app.app_context():
            del redis_connection().execute_command
    assert 1 <= len(sent) <= elapsed / jobs.SIGNAL_WINDOW_SECONDS + 2 and len(sent) < 30
    settle()  # the real workers, no sweeper (SWEEP_INTERVAL_SECONDS is 0 in tests)
    assert balance(client) == 60


def test_an_event_whose_process_stayed_silent_is_drained_by_the_jobs_last_read(
        database, redis_url, client, monkeypatch):
    # Its own queue prefix: the job it asks for is run here, in a thread, not by the workers.
    alone = create_app({**app_config(database, redis_url), "QUEUE_PREFIX": f"signal-{uuid.uuid4().hex[:8]}"})
    monkeypatch.setattr(jobs, "SIGNAL_WINDOW_SECONDS", 2.0)  # room for the steps below on a busy box
    sender = alone.test_client()
    sent = counting_sets(alone)
    assert signed_webhook(sender, "orders/paid", order(order_id=50_001, subtotal="5.00")).status_code == 200
    assert len(sent) == 1

    def job():
        with alone.app_context():
            jobs.drain_webhook_events()

    worker = threading.Thread(target=job)
    worker.start()
    deadline = time.monotonic() + 10
    while pending(alone) and time.monotonic() < deadline:  # the job's first read took the first order
        time.sleep(0.01)
    assert pending(alone) == 0
    assert signed_webhook(sender, "orders/paid", order(order_id=50_002, subtotal="7.00")).status_code == 200
    assert len(sent) == 1  # silent: its process asked less than a window ago
    assert pending(alone) == 1
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert pending(alone) == 0 and balance(client) == 12
    with alone.app_context():
        waiting = queue("webhooks", redis_connection())
        assert waiting.count == 1  # the one job asked for, which no worker of this prefix ran
        waiting.empty()
        redis_connection().delete(jobs.drain_flag())
