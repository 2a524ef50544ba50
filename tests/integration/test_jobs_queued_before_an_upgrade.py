"""Jobs that an older deployment left in Redis still run after the upgrade.

Jobs are now queued under their registry name (plugin/jobs.py); before, RQ stored the dotted
path of the function, and some of those functions have moved or gone since. Each test puts
a job in a real queue exactly as the old code did (the path as a string), then runs a real
worker in burst mode, which must map the path through the legacy table and do the job.

The state is made through the public surface by an app that runs its jobs in-process, on
the same database; the shop then uninstalls, so no job of the worker can call the platform.
"""
import os
import subprocess
import sys
import uuid

import pytest
import responses
from redis import Redis
from rq import Queue
from rq.job import Job, JobStatus
from sqlalchemy import select, update

from plugin import create_app
from plugin.db import transaction, utcnow
from plugin.models import DeliveryStatus, EventDelivery, EventStatus, Member, Redemption, RedemptionStatus, WebhookEvent
from tests.conftest import SERVICES, app_config
from tests.helpers import API_KEY, API_SECRET, ENCRYPTION_KEY, ROOT, auth, install, order, signed_webhook
from tests.plugin.loyalty.events.test_event_subscriptions import subscribe
from tests.plugin.loyalty.rewards.test_redemptions import GRAPHQL, redeem, reward_id
from tests.receivers import Receiver

pytestmark = pytest.mark.skipif(not SERVICES, reason="needs PostgreSQL and Redis: runs in the services pass")


@pytest.fixture
def prefix():
    return f"upgrade-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def queued_app(database, redis_url, prefix):
    """The app with Redis and a queue prefix no worker takes until the test starts one."""
    return create_app({**app_config(database, redis_url), "QUEUE_PREFIX": prefix})


@pytest.fixture
def local_app(database):
    return create_app(app_config(database, None))


def enqueue_as_before(redis_url: str, prefix: str, queue_name: str, path: str, *args) -> str:
    """What the old code did: the function's dotted path, as a string, on the prefixed queue.
    The queues are emptied first, so the worker finds only this job of the test's own."""
    connection = Redis.from_url(redis_url)
    for name in ("webhooks", "platform", "events"):
        Queue(f"{prefix}-{name}", connection=connection).empty()
    job_id = f"legacy-{uuid.uuid4().hex[:8]}"
    Queue(f"{prefix}-{queue_name}", connection=connection).enqueue(path, *args, job_id=job_id, result_ttl=600)
    return job_id


def run_worker_in_burst(database: str, redis_url: str, prefix: str) -> None:
    env = {**os.environ, "DATABASE_URL": database, "REDIS_URL": redis_url, "SHOPIFY_API_KEY": API_KEY,
           "SHOPIFY_API_SECRET": API_SECRET, "LOYALTY_ENCRYPTION_KEY": ENCRYPTION_KEY, "LOG_LEVEL": "WARNING",
           "LOYALTY_QUEUE_PREFIX": prefix, "LOYALTY_SWEEP_INTERVAL": "0",
           # Nothing here may reach a store; should a job try, it finds a closed loopback port.
           "SHOPIFY_ADMIN_ORIGIN": "http://127.0.0.1:9"}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "plugin", "worker", "--burst"], cwd=ROOT,
                          env=env, timeout=120)
    assert done.returncode == 0


def finished(redis_url: str, job_id: str):
    """The job's return value, once it is known to have run to the end."""
    job = Job.fetch(job_id, connection=Redis.from_url(redis_url))
    assert job.get_status() == JobStatus.FINISHED, job.latest_result().exc_string if job.latest_result() else None
    return job.return_value()


def member_balance(app, customer_id: int = 7001) -> int:
    with app.app_context(), transaction() as session:
        return session.scalar(select(Member.balance).where(Member.customer_id == customer_id))


@pytest.mark.parametrize("path", ["webhooks.jobs.drain_webhook_events", "plugin.jobs.drain_webhook_events"])
def test_a_queued_drain_under_an_old_path_processes_the_waiting_orders(
        database, redis_url, prefix, queued_app, local_app, path):
    client = queued_app.test_client()
    for subtotal in ("40.00", "25.00"):
        assert signed_webhook(client, "orders/paid", order(subtotal=subtotal)).status_code == 200
    job_id = enqueue_as_before(redis_url, prefix, "webhooks", path)

    run_worker_in_burst(database, redis_url, prefix)

    assert finished(redis_url, job_id) == 2
    with local_app.app_context(), transaction() as session:
        assert set(session.scalars(select(WebhookEvent.status))) == {EventStatus.PROCESSED}
    assert member_balance(local_app) == 65


def pending_redemption_of_an_uninstalled_shop(app) -> int:
    """600 points, a 500-point code the platform could not make (left pending), then the
    shop uninstalls; the code's retry is due now."""
    client = app.test_client()
    install(client)
    signed_webhook(client, "orders/paid", order(subtotal="600.00"))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as platform:
        platform.post(GRAPHQL, status=503)
        made = redeem(client, reward_id(client))
    assert made.status_code == 201 and made.get_json()["status"] == "pending", made.get_json()
    assert signed_webhook(client, "app/uninstalled", {}).status_code == 200
    with app.app_context(), transaction() as session:
        session.execute(update(Redemption).values(next_attempt_at=utcnow()))  # its retry came due
    assert member_balance(app) == 100
    return made.get_json()["id"]


@pytest.mark.parametrize("path, args, answer", [
    ("plugin.loyalty.rewards.redemptions.issue_redemption_code", "id", "failed"),
    ("plugin.loyalty.redemptions.issue_redemption_code", "id", "failed"),
    ("plugin.jobs.issue_redemption_code", "id", "failed"),
    ("plugin.schedule.run_periodic", "codes", {"retried": 1}),
    ("plugin.jobs.maintain_redemptions", None, {"retried": 1}),
])
def test_a_queued_code_retry_under_an_old_path_fails_the_code_and_returns_the_points(
        database, redis_url, prefix, local_app, path, args, answer):
    redemption_id = pending_redemption_of_an_uninstalled_shop(local_app)
    arguments = {"id": (redemption_id,), "codes": ("codes",), None: ()}[args]
    job_id = enqueue_as_before(redis_url, prefix, "platform", path, *arguments)

    run_worker_in_burst(database, redis_url, prefix)

    assert finished(redis_url, job_id) == answer
    with local_app.app_context(), transaction() as session:
        redemption = session.get(Redemption, redemption_id)
        assert redemption.status is RedemptionStatus.FAILED and "no offline access token" in redemption.error
    assert member_balance(local_app) == 600


@pytest.mark.parametrize("path", ["plugin.loyalty.events.delivery.send_due_deliveries",
                                  "plugin.loyalty.event_delivery.send_due_deliveries"])
def test_a_queued_sender_under_an_old_path_delivers_what_is_due(
        database, redis_url, prefix, queued_app, local_app, path):
    receiver = Receiver()
    try:
        install(local_app.test_client())
        made = subscribe(local_app.test_client(), receiver.url)
        sample = queued_app.test_client().post(f"/api/event-subscriptions/{made['id']}/test", headers=auth())
        assert sample.status_code == 202
        signed_webhook(local_app.test_client(), "app/uninstalled", {})
        job_id = enqueue_as_before(redis_url, prefix, "events", path)

        run_worker_in_burst(database, redis_url, prefix)

        # Its count is not asserted: an in-process sender left by an earlier test on this
        # database may wake first. Finished (not failed) is what says the path was found.
        assert finished(redis_url, job_id) in (0, 1)
        assert len(receiver.wait_for(1)) == 1
        with local_app.app_context(), transaction() as session:
            assert session.scalar(select(EventDelivery.status)) is DeliveryStatus.SUCCEEDED
    finally:
        receiver.close()


def test_a_queued_job_naming_neither_a_registered_job_nor_an_old_path_fails_without_being_called(
        database, redis_url, prefix):
    # A path RQ alone would import and call; the workers call only what the registry names.
    job_id = enqueue_as_before(redis_url, prefix, "webhooks", "webhooks.processing.drain_due_events")

    run_worker_in_burst(database, redis_url, prefix)

    job = Job.fetch(job_id, connection=Redis.from_url(redis_url))
    assert job.get_status() == JobStatus.FAILED
    assert "LookupError: no job named 'webhooks.processing.drain_due_events'" in job.latest_result().exc_string
