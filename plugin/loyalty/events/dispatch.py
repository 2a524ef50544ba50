"""Asking for the event sender: after a commit that owes deliveries, and on the periodic sweep.

With REDIS_URL, the sender is an RQ job on its own `events` queue, at most one waiting at
a time (a Redis flag, like the webhook drain). Without it, it is one daemon thread per
app, woken here: never the request or the webhook drain that recorded the event, so a
receiver that hangs cannot hold up points. The periodic sweep (plugin/schedule.py) asks
again every minute, so a lost request or a retry that came due is never left behind.
The job is named by its dotted path, as the queue names every job, so this module needs
no import of the sender (plugin/loyalty/events/delivery.py), which imports this one.
"""
import importlib
import logging
import threading
import time

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import event as orm_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.db import reading_session, utcnow
from plugin.models import DeliveryStatus, EventDelivery
from plugin.queue import EVENTS, enqueue, prefixed, redis_connection

log = logging.getLogger(__name__)

SEND_JOB = "plugin.loyalty.events.delivery.send_due_deliveries"
SEND_FLAG_SECONDS = 30


def send_flag() -> str:
    return prefixed("events-send-scheduled")


def request_sending() -> None:
    """Ask for the due deliveries to be sent soon; never raises for a queue outage."""
    connection = redis_connection()
    if connection is None:
        _in_process_sender(current_app._get_current_object()).wake()
        return
    try:
        flagged = connection.set(send_flag(), 1, nx=True, ex=SEND_FLAG_SECONDS)
    except RedisError as error:
        log.warning("could not ask for event deliveries (%s); the sweep asks again", type(error).__name__)
        return
    if flagged:
        enqueue(EVENTS, SEND_JOB, job_id=f"event-deliveries-{time.time_ns()}", result_ttl=60)


def clear_send_flag() -> None:
    """The job clears the flag before it reads, so a delivery owed after that read asks anew."""
    connection = redis_connection()
    if connection is not None:
        try:
            connection.delete(send_flag())
        except RedisError:
            pass  # the flag lapses on its own


def send_after_commit(session: Session) -> None:
    """Ask for the sender once this transaction commits: never before, so it finds the rows,
    and never inside it, so a receiver cannot hold the transaction open."""
    if session.info.get("loyalty_send_after_commit"):
        return
    session.info["loyalty_send_after_commit"] = True
    orm_event.listen(session, "after_commit", _ask_after_commit, once=True)


def _ask_after_commit(session: Session) -> None:
    session.info.pop("loyalty_send_after_commit", None)
    request_sending()


class _Sender:
    """The in-process sender: one daemon thread per app, woken after each commit that owes
    deliveries, and on its own when the next retry comes due."""

    def __init__(self, app):
        self.app, self.woken = app, threading.Event()
        threading.Thread(target=self._run, name="event-deliveries", daemon=True).start()

    def wake(self) -> None:
        self.woken.set()

    def _run(self) -> None:
        while True:
            self.woken.wait(timeout=self._idle_seconds())
            self.woken.clear()
            with self.app.app_context():
                try:
                    _job()()
                except Exception:
                    log.exception("sending event deliveries failed; trying again later")

    def _idle_seconds(self) -> float:
        with self.app.app_context():
            session = reading_session()
            try:
                with session.begin():
                    due = session.scalar(select(func.min(EventDelivery.next_attempt_at)).where(
                        EventDelivery.status == DeliveryStatus.PENDING))
            except Exception:
                return 60.0
            finally:
                session.close()
        return 60.0 if due is None else min(max((due - utcnow()).total_seconds(), 0.05), 60.0)


_senders: dict[int, _Sender] = {}
_senders_lock = threading.Lock()


def _in_process_sender(app) -> _Sender:
    with _senders_lock:
        if id(app) not in _senders:
            _senders[id(app)] = _Sender(app)
        return _senders[id(app)]


def _job():
    module, name = SEND_JOB.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)
