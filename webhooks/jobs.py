"""Draining stored webhook events: the job, and asking for it (on RQ or in-process).

With `REDIS_URL` set, intake asks for a drain after its commit. A Redis flag keeps at most
one drain waiting in the queue: the job clears the flag before it reads, so an event
committed after that read asks for a fresh drain, and a burst of webhooks costs one job,
not one each. If Redis is down the event simply stays pending; the sweeper (in every
worker, and in `serve`) asks again for anything left waiting, so nothing that was
acknowledged is lost. Without Redis, drains run in the calling process.
"""
import logging
import threading

from redis.exceptions import RedisError
from rq import Retry

from plugin.queue import WEBHOOKS, enqueue, redis_connection
from webhooks.processing import drain_due_events

log = logging.getLogger(__name__)

# Long enough to cover a queued job; short enough that a lost job is replaced soon.
DRAIN_FLAG_SECONDS = 30
DRAIN_JOB = "webhooks.jobs.drain_webhook_events"

_in_process_lock = threading.Lock()


def drain_flag() -> str:
    from flask import current_app

    return f"{current_app.config['QUEUE_PREFIX']}:drain-scheduled"


def drain_webhook_events() -> int:
    """The job: process every due webhook event. Runs in a worker's app context."""
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
        flagged = despite_flag or connection.set(drain_flag(), trigger, nx=True, ex=DRAIN_FLAG_SECONDS)
    except RedisError as error:
        log.warning("could not ask for a webhook drain (%s); leaving it to the sweeper", type(error).__name__)
        return
    if flagged:
        enqueue(WEBHOOKS, DRAIN_JOB, job_id=f"drain-webhook-events-{trigger}",
                retry=Retry(max=3, interval=[5, 30, 120]), result_ttl=60)


def _drain_in_process() -> None:
    # One drain at a time per process: SQLite has a single writer anyway.
    with _in_process_lock:
        try:
            drain_due_events()
        except Exception:
            log.exception("in-process drain failed; the sweeper will try again")
