"""Background jobs: draining stored webhook events, on RQ or in-process.

With `REDIS_URL` set, intake enqueues a drain job on the `webhooks` queue after its commit.
A Redis flag keeps at most one drain waiting in the queue: the job clears the flag before
it reads, so an event committed after that read enqueues a fresh drain, and a burst of
webhooks costs one job, not one each. If Redis is down the event simply stays pending;
the sweeper (in every worker, and in `serve`) enqueues a drain for anything left waiting,
so nothing that was acknowledged is lost. Without Redis, drains run in the calling process.
"""
import logging
import threading
import time
from datetime import timedelta

from flask import current_app
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue, Retry

from plugin.db import new_session

log = logging.getLogger(__name__)

# Queue names are prefixed with QUEUE_PREFIX so two deployments (or test runs) can share a
# Redis without taking each other's jobs.
WEBHOOK_QUEUE = "webhooks"
# Jobs that call the store platform, kept apart so a slow platform never delays the ledger.
PLATFORM_QUEUE = "platform"
# Long enough to cover a queued job; short enough that a lost job is replaced soon.
DRAIN_FLAG_SECONDS = 30
SWEEP_AGE = timedelta(seconds=5)

_in_process_lock = threading.Lock()


# Requests (the webhook intake above all) give Redis this long: a hung Redis must cost an
# answer at most a fraction of a second, since the event is stored and the sweeper enqueues it.
REQUEST_REDIS_TIMEOUT = 0.25
# Workers wait longer: their dequeue blocks, and RQ raises the read timeout to suit it.
WORKER_REDIS_TIMEOUT = 5
# A worker says it is alive this often; /healthz wants to have heard from one recently.
HEARTBEAT_SECONDS = 10


def redis_connection(for_worker: bool = False) -> Redis | None:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    key = "redis-worker" if for_worker else "redis"
    if key not in current_app.extensions:
        timeout = WORKER_REDIS_TIMEOUT if for_worker else REQUEST_REDIS_TIMEOUT
        current_app.extensions[key] = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                                     health_check_interval=30)
    return current_app.extensions[key]


def heartbeat_key() -> str:
    return f"{current_app.config['QUEUE_PREFIX']}:worker-heartbeat"


def start_heartbeat(app, stop: threading.Event) -> threading.Thread:
    """A daemon thread that marks "a worker is alive" in Redis until `stop` is set."""

    def run():
        while True:
            with app.app_context():
                try:
                    redis_connection(for_worker=True).set(heartbeat_key(), int(time.time()),
                                                          ex=max(1, int(app.config["HEALTH_WORKER_SECONDS"])))
                except (RedisConnectionError, RedisTimeoutError):
                    pass  # Redis is down: /healthz says so on its own
            if stop.wait(HEARTBEAT_SECONDS):
                return

    thread = threading.Thread(target=run, name="worker-heartbeat", daemon=True)
    thread.start()
    return thread


def _named(name: str) -> str:
    return f"{current_app.config['QUEUE_PREFIX']}-{name}"


def drain_flag() -> str:
    return f"{current_app.config['QUEUE_PREFIX']}:drain-scheduled"


def webhook_queue(connection: Redis) -> Queue:
    return Queue(_named(WEBHOOK_QUEUE), connection=connection)


def platform_queue(connection: Redis) -> Queue:
    return Queue(_named(PLATFORM_QUEUE), connection=connection)


def issue_redemption_code(redemption_id: int) -> str | None:
    """The job: (re)try creating a pending redemption's discount code."""
    from plugin.loyalty.redemptions import issue_code

    status = issue_code(redemption_id)
    return None if status is None else status.value


def maintain_redemptions() -> dict:
    """The job (once a minute): retry due pending codes, expire old ones, purge install
    nonces no callback can use any more, blank processed payloads past their retention."""
    from admin_ui.install import purge_expired_oauth_states
    from plugin.db import transaction
    from plugin.loyalty.privacy import blank_old_payloads
    from plugin.loyalty.redemptions import due_redemptions, expire_codes, issue_code

    with transaction() as session:
        due = due_redemptions(session)
    for redemption_id in due:
        try:
            issue_code(redemption_id)
        except Exception:
            # One redemption that cannot be handled must not hold back every other shop's.
            log.exception("retrying redemption %s failed", redemption_id)
    with transaction() as session:
        expired = expire_codes(session)
    with transaction() as session:
        purged = purge_expired_oauth_states(session)
    with transaction() as session:
        blanked = blank_old_payloads(session, timedelta(days=current_app.config["PAYLOAD_RETENTION_DAYS"]))
    return {"retried": len(due), "expired": expired, "purged_oauth_states": purged, "blanked_payloads": blanked}


def schedule_code_retry(redemption_id: int, attempts: int, delay: timedelta) -> None:
    """Retry a pending code later: an RQ job at that time, or the in-process sweeper."""
    connection = redis_connection()
    if connection is None:
        return  # `serve` sweeps due redemptions every SWEEP_INTERVAL_SECONDS
    try:
        platform_queue(connection).enqueue_in(
            delay, issue_redemption_code, redemption_id, job_id=f"issue-code-{redemption_id}-{attempts}",
            retry=Retry(max=3, interval=[30, 120, 600]), result_ttl=300, failure_ttl=86400)
    except (RedisError, ValueError) as error:
        log.warning("could not schedule a code retry (%s); the sweeper will find it", type(error).__name__)


def drain_webhook_events() -> int:
    """The job: process every due webhook event. Runs in a worker's app context."""
    from webhooks.processing import drain_due_events

    connection = redis_connection()
    if connection is not None:
        connection.delete(drain_flag())
    return drain_due_events()


def schedule_drain(trigger: str, despite_flag: bool = False) -> None:
    """Ask for the pending events to be processed soon; never raises for a queue outage.

    The sweeper passes `despite_flag`: a flag can outlive its job (a SET that reached a hung
    Redis whose answer timed out, a job lost with Redis), and events that have waited must
    not wait for the flag to expire as well.
    """
    connection = redis_connection()
    if connection is None:
        _drain_in_process()
        return
    try:
        if despite_flag or connection.set(drain_flag(), trigger, nx=True, ex=DRAIN_FLAG_SECONDS):
            webhook_queue(connection).enqueue_call(
                drain_webhook_events, job_id=f"drain-webhook-events-{trigger}",
                retry=Retry(max=3, interval=[5, 30, 120]), result_ttl=60, failure_ttl=86400,
            )
    except (RedisError, ValueError) as error:
        # The event is stored; the sweeper will enqueue it once Redis answers again.
        log.warning("could not enqueue webhook drain (%s); leaving it to the sweeper", type(error).__name__)


def _drain_in_process() -> None:
    from webhooks.processing import drain_due_events

    # One drain at a time per process: SQLite has a single writer anyway.
    with _in_process_lock:
        try:
            drain_due_events()
        except Exception:
            log.exception("in-process drain failed; the sweeper will try again")


def sweep_once() -> bool:
    """Enqueue a drain if an event has waited too long; True if one was asked for."""
    from webhooks.processing import due_event_exists

    session = new_session()
    try:
        waiting = due_event_exists(session, SWEEP_AGE)
    finally:
        session.close()
    if waiting:
        schedule_drain(f"sweep-{int(time.time())}", despite_flag=True)
    _schedule_maintenance()
    return waiting


def _schedule_maintenance() -> None:
    connection = redis_connection()
    if connection is None:
        maintain_redemptions()
        return
    try:
        # One job per minute at most, whatever the number of sweepers.
        platform_queue(connection).enqueue_call(maintain_redemptions, job_id=f"maintain-redemptions-{int(time.time()) // 60}",
                                                result_ttl=120)
    except (RedisError, ValueError) as error:
        log.warning("could not enqueue redemption upkeep (%s)", type(error).__name__)


def start_sweeper(app, stop: threading.Event) -> threading.Thread | None:
    """A daemon thread that sweeps every SWEEP_INTERVAL_SECONDS until `stop` is set."""
    interval = app.config["SWEEP_INTERVAL_SECONDS"]
    if interval <= 0:
        return None

    def run():
        while not stop.wait(interval):
            with app.app_context():
                try:
                    sweep_once()
                except Exception:
                    log.exception("sweep failed")

    thread = threading.Thread(target=run, name="webhook-sweeper", daemon=True)
    thread.start()
    return thread
