"""Draining stored webhook events: the job, and asking for it.

With `REDIS_URL` set, intake asks for a drain after its commit. A Redis flag keeps at most
one drain waiting in the queue: the job clears the flag before it reads, so an event
committed after that read asks for a fresh drain, and a burst of webhooks costs one job,
not one each. If Redis is down the event simply stays pending; the sweeper (in every
worker, and in `serve`) asks again for anything left waiting, so nothing that was
acknowledged is lost. Without Redis, drains run in the calling process. The job's queue,
retry and in-process behaviour are its row in the registry (plugin/jobs.py).
"""
from flask import current_app

from plugin.queue import Flag, clear_flag, request
from webhooks.processing import drain_due_events

# Long enough to cover a queued job; short enough that a lost job is replaced soon.
DRAIN_FLAG_SECONDS = 30


def drain_flag() -> str:
    return f"{current_app.config['QUEUE_PREFIX']}:drain-scheduled"


def drain_webhook_events() -> int:
    """The job: process every due webhook event. Runs in a worker's app context."""
    clear_flag(drain_flag())
    return drain_due_events()


def schedule_drain(trigger: str, despite_flag: bool = False) -> None:
    """Ask for the pending events to be processed soon; never raises for a queue outage.

    The sweeper passes `despite_flag`: a flag can outlive its job (a SET that reached a hung
    Redis whose answer timed out, a job lost with Redis), and events that have waited must
    not wait for the flag to expire as well.
    """
    flag = None if despite_flag else Flag(drain_flag(), DRAIN_FLAG_SECONDS)
    request("drain-webhook-events", job_id=f"drain-webhook-events-{trigger}", coalesce=flag)
