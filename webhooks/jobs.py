"""Draining stored webhook events: the job, and asking for it.

With `REDIS_URL` set, intake asks for a drain after its commit. A Redis flag keeps at most
one drain waiting in the queue: the job clears the flag before it reads, so an event
committed after that read asks for a fresh drain, and a burst of webhooks costs one job,
not one each. If Redis is down the event simply stays pending; the sweeper (in every
worker, and in `serve`) asks again for anything left waiting, so nothing that was
acknowledged is lost. Without Redis, drains run in the calling process. The job's queue,
retry and in-process behaviour are its row in the registry (plugin/jobs.py).

Intake asks at most once per SIGNAL_WINDOW_SECONDS per process (`signal_drain`), not once
per request: under a burst the Redis round trip was most of what a webhook cost beyond its
INSERT. An event whose process stayed silent is still drained without the sweeper: its
process asked at some t_s less than a window before the event's commit, so a job clears the
flag after t_s, and every drain job reads once more a full window after its clear.
"""
import time

from flask import current_app

from plugin.queue import Flag, clear_flag, redis_connection, request
from webhooks.processing import drain_due_events

# Long enough to cover a queued job; short enough that a lost job is replaced soon.
DRAIN_FLAG_SECONDS = 30
# How long an intake process stays silent after asking, and so how long a drain job waits
# after clearing the flag before its last read: a tenth of a second adds that little to a
# webhook's way to the ledger and takes the Redis command off all but one request in many.
SIGNAL_WINDOW_SECONDS = 0.1


def drain_flag() -> str:
    return f"{current_app.config['QUEUE_PREFIX']}:drain-scheduled"


def drain_webhook_events() -> int:
    """The job: process every due webhook event. Runs in a worker's app context."""
    clear_flag(drain_flag())
    cleared = time.monotonic()
    handled = drain_due_events()
    # The last read comes a full window after the clear, so it sees every event whose
    # process stayed silent because it had asked just before (see the module's docstring).
    left = cleared + SIGNAL_WINDOW_SECONDS - time.monotonic()
    if left > 0:
        time.sleep(left)
    return handled + drain_due_events()


def signal_drain(trigger: str) -> None:
    """Intake's way to ask: at most once per SIGNAL_WINDOW_SECONDS in this process (with
    Redis; without it each request drains in-process, as `schedule_drain` does)."""
    if redis_connection() is not None:
        now = time.monotonic()
        # Per app and process: a forked server worker starts its own window.
        last = current_app.extensions.setdefault("drain-signalled", [float("-inf")])
        if now - last[0] < SIGNAL_WINDOW_SECONDS:
            return
        last[0] = now
    schedule_drain(trigger)


def schedule_drain(trigger: str, despite_flag: bool = False) -> None:
    """Ask for the pending events to be processed soon; never raises for a queue outage.

    The sweeper passes `despite_flag`: a flag can outlive its job (a SET that reached a hung
    Redis whose answer timed out, a job lost with Redis), and events that have waited must
    not wait for the flag to expire as well.
    """
    flag = None if despite_flag else Flag(drain_flag(), DRAIN_FLAG_SECONDS)
    request("drain-webhook-events", job_id=f"drain-webhook-events-{trigger}", coalesce=flag)
