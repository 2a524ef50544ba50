"""Workers that are killed, and a Redis that goes away: nothing acknowledged waits for a person.

These start their own RQ worker processes (and, for the outage, their own redis-server on a
free port, so the Redis that other test runs share is never stopped), on the run's database,
with a queue prefix of their own. They need the services pass: PostgreSQL row locks are
what a killed worker used to leave behind.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest
from sqlalchemy import func, select

from plugin import create_app
from plugin.db import transaction, utcnow
from plugin.models import EventStatus, LedgerEntry, Member, WebhookEvent
from tests.conftest import SERVICES, app_config
from tests.helpers import API_KEY, API_SECRET, ENCRYPTION_KEY, ROOT, SHOP, order, signed_webhook

pytestmark = pytest.mark.skipif(not SERVICES, reason="needs PostgreSQL and Redis: runs in the services pass")


def start_worker(database: str, redis_url: str, prefix: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database, "REDIS_URL": redis_url, "SHOPIFY_API_KEY": API_KEY,
           "SHOPIFY_API_SECRET": API_SECRET, "LOYALTY_ENCRYPTION_KEY": ENCRYPTION_KEY, "LOG_LEVEL": "WARNING",
           "LOYALTY_QUEUE_PREFIX": prefix, "LOYALTY_SWEEP_INTERVAL": "1"}
    # Its own process group, so the scheduler child RQ forks can be stopped with it.
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "plugin", "worker"], cwd=ROOT, env=env,
                            start_new_session=True)


def stop_group(worker: subprocess.Popen) -> None:
    try:
        os.killpg(worker.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    worker.wait(timeout=20)


def store_orders(app, count: int, first_id: int) -> None:
    """Acknowledged orders/paid deliveries, as the intake stores them (one customer each)."""
    now = utcnow()
    with app.app_context(), transaction() as session:
        session.execute(WebhookEvent.__table__.insert(), [dict(
            shop_domain=SHOP, topic="orders/paid", webhook_id=str(uuid.uuid4()), received_at=now,
            next_attempt_at=now, status=EventStatus.PENDING,
            payload=json.dumps(order(order_id=first_id + n, customer_id=90_000 + n % 500, subtotal="10.00")))
            for n in range(count)])


def counts(app) -> tuple[int, int]:
    with app.app_context(), transaction() as session:
        pending = session.scalar(select(func.count()).select_from(WebhookEvent).where(
            WebhookEvent.status == EventStatus.PENDING))
        entries = session.scalar(select(func.count()).select_from(LedgerEntry))
    return pending, entries


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.1)


def test_a_worker_killed_mid_batch_leaves_nothing_stuck_and_a_fresh_worker_finishes_exactly_once(
        database, redis_url):
    prefix = f"kill-{uuid.uuid4().hex[:6]}"
    app = create_app({**app_config(database, redis_url), "QUEUE_PREFIX": prefix})
    store_orders(app, 4000, 7_000_000)
    first = start_worker(database, redis_url, prefix)
    try:
        wait_until(lambda: counts(app)[1] > 0, 60, "the first worker starting on the backlog")
        os.kill(first.pid, signal.SIGKILL)  # the worker itself; its scheduler child stops after it
        assert counts(app)[0] > 0, "the backlog was already done: the kill came too late to test anything"
        second = start_worker(database, redis_url, prefix)
        try:
            wait_until(lambda: counts(app)[0] == 0, 60, "the fresh worker finishing every event")
        finally:
            stop_group(second)
    finally:
        stop_group(first)

    with app.app_context(), transaction() as session:
        assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 4000  # each order once
        assert session.scalar(select(func.sum(Member.balance))) == 40_000
        assert {status for status in session.scalars(select(WebhookEvent.status))} == {EventStatus.PROCESSED}
    assert app.test_cli_runner().invoke(args=["verify-ledger"]).exit_code == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_redis(port: int) -> subprocess.Popen:
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no"], stdout=subprocess.DEVNULL)
    wait_until(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, 10, "redis-server starting")
    return server


def test_workers_ride_out_a_redis_outage_and_the_intake_never_waits_on_a_hung_redis(database):
    port, prefix = free_port(), f"outage-{uuid.uuid4().hex[:6]}"
    redis_url = f"redis://127.0.0.1:{port}/0"
    redis = start_redis(port)
    app = create_app({**app_config(database, redis_url), "QUEUE_PREFIX": prefix})
    client = app.test_client()
    worker = start_worker(database, redis_url, prefix)
    try:
        store_orders(app, 2000, 8_000_000)
        wait_until(lambda: counts(app)[1] > 0, 60, "the worker starting on the backlog")
        redis.kill()  # gone mid-drain, for a few seconds
        redis.wait()
        time.sleep(3)
        assert worker.poll() is None, "the worker quit when Redis went away"
        redis = start_redis(port)
        wait_until(lambda: counts(app)[0] == 0, 60, "the backlog drained after Redis came back")
        assert worker.poll() is None

        redis.send_signal(signal.SIGSTOP)  # hung, not down: connections open, nothing answers
        try:
            started = time.monotonic()
            answer = signed_webhook(client, "orders/paid", order(order_id=8_999_999, customer_id=91_000))
            waited = time.monotonic() - started
        finally:
            redis.send_signal(signal.SIGCONT)
        assert answer.status_code == 200 and waited < 1.5, waited
        wait_until(lambda: counts(app)[0] == 0, 30, "the sweeper enqueuing what the intake could not")
        assert counts(app)[1] == 2001
        wait_until(lambda: client.get("/healthz").status_code == 200, 30, "/healthz hearing from the worker")
    finally:
        stop_group(worker)
        redis.kill()
        redis.wait()


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's exit is reaped by init, or waits as a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_sigkilled_workers_scheduler_child_stops_and_releases_its_locks(database, redis_url):
    from redis import Redis

    prefix = f"orphan-{uuid.uuid4().hex[:6]}"
    worker = start_worker(database, redis_url, prefix)
    locks = Redis.from_url(redis_url)
    try:
        wait_until(lambda: children_of(worker.pid), 60, "the worker forking its scheduler")
        [scheduler] = children_of(worker.pid)
        wait_until(lambda: locks.keys(f"rq:scheduler-lock:{prefix}-*"), 30, "the scheduler taking its locks")
        os.kill(worker.pid, signal.SIGKILL)  # the worker alone, as the OOM killer does
        worker.wait(timeout=20)
        wait_until(lambda: not running(scheduler), 15, "the orphaned scheduler stopping")
        assert locks.keys(f"rq:scheduler-lock:{prefix}-*") == []  # released, not left to expire
    finally:
        stop_group(worker)
