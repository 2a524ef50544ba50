"""Asking for the event sender: after a commit that owes deliveries, and on the periodic sweep.

With REDIS_URL, the sender is an RQ job on its own `events` queue, at most one waiting at
a time (a Redis flag, like the webhook drain). Without it, it is one daemon thread per
app: never the request or the webhook drain that recorded the event, so a receiver that
hangs cannot hold up points. The periodic sweep (plugin/schedule.py) asks again every
minute, so a lost request or a retry that came due is never left behind. The job
(plugin/loyalty/events/delivery.py, which imports this module) is asked for by its name in
the registry (plugin/jobs.py), where `seconds_until_due` also tells the thread when to wake.
"""
import time

from sqlalchemy import event as orm_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.db import reading_session, utcnow
from plugin.models import DeliveryStatus, EventDelivery
from plugin.queue import Flag, clear_flag, prefixed, request

SEND_FLAG_SECONDS = 30
# The longest the in-process sender sleeps when nothing is due.
IDLE_SECONDS = 60.0


def send_flag() -> str:
    return prefixed("events-send-scheduled")


def request_sending() -> None:
    """Ask for the due deliveries to be sent soon; never raises for a queue outage."""
    request("event-deliveries", job_id=f"event-deliveries-{time.time_ns()}",
            coalesce=Flag(send_flag(), SEND_FLAG_SECONDS))


def clear_send_flag() -> None:
    """The job clears the flag before it reads, so a delivery owed after that read asks anew."""
    clear_flag(send_flag())


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


def seconds_until_due() -> float:
    """How long the in-process sender may sleep: until the next pending delivery is due."""
    session = reading_session()
    try:
        with session.begin():
            due = session.scalar(select(func.min(EventDelivery.next_attempt_at)).where(
                EventDelivery.status == DeliveryStatus.PENDING))
    except Exception:
        return IDLE_SECONDS
    finally:
        session.close()
    return IDLE_SECONDS if due is None else min(max((due - utcnow()).total_seconds(), 0.05), IDLE_SECONDS)
