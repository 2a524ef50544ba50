"""Turning stored webhook events into ledger changes, in batches.

A job drains due events in batches that share one transaction: one commit and one claim
query for many orders, and runs of paid orders awarded together in a few statements, which
is what lets a worker keep up with a busy store. Each event's
effect is still atomic and idempotent: if anything in a batch fails, the batch is rolled
back whole and its events are retried one per transaction, so a bad event is isolated and
the good ones land. A payload that cannot be read fails at once (retrying cannot help), and
so does an order whose figures pass their bounds (plugin/loyalty/bounds.py) or a 64-bit
column's range; any other error is retried with backoff and marked failed after the last try.
"""
import logging
import random
import re
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from rq.timeouts import BaseTimeoutException
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from plugin.backoff import backoff
from plugin.db import new_session, utcnow
from plugin.ids import parse_id
from plugin.loyalty.bounds import OutOfBounds
from plugin.loyalty.orders import ShopContext, shop_context
from plugin.loyalty.privacy import scrub_late_arrivals
from plugin.models import EventStatus, WebhookEvent
from webhooks.handlers import HANDLERS
from webhooks.handlers.payloads import PayloadError, parse_body, timestamp
from webhooks.products import look_up_products

log = logging.getLogger(__name__)

BATCH_SIZE = 250
# An order waiting for its products' facts is tried again this soon (the look-up pass runs
# before every batch), and given up (failed, retryable by a person) after this long.
WAIT_DELAY = timedelta(seconds=15)
MAX_WAIT = timedelta(days=3)
LOCK_CONFLICT_TRIES = 4
MAX_ATTEMPTS = 5
EVENTS = WebhookEvent.__table__
# Marks a shop that a handler with `ERASES_SHOP` (shop/redact) may have deleted in this
# batch: its cached context is stale, and its later events in the batch may be deleted too.
ERASED = object()
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def retry_delay(attempts: int) -> timedelta:
    """10 s, 40 s, 160 s, 640 s: about a quarter of an hour before giving up."""
    return backoff(attempts, first=timedelta(seconds=10), factor=4)


@dataclass(frozen=True)
class Delivery:
    """The stored event behind a payload, for handlers that must reason about arrival."""

    event_id: int
    received_at: datetime
    triggered_at: datetime | None = None

    @property
    def occurred_at(self) -> datetime:
        """When the platform says the event happened; our arrival time if it did not say."""
        return self.triggered_at or self.received_at


def _triggered_at(header: str | None) -> datetime | None:
    try:
        return timestamp(header, "X-Shopify-Triggered-At")
    except PayloadError:
        return None  # a header we cannot read must not fail the event


@dataclass
class Outcome:
    event_id: int
    error: str | None = None
    # The customer the payload names, so a delivery about a redacted customer is scrubbed.
    customer_id: int | None = None
    # The handler wrote nothing and asks to be tried again later (an order waiting for its
    # products' facts): not a failure, so no try is spent.
    waits: bool = False


def drain_due_events(batch_size: int = BATCH_SIZE) -> int:
    """Process every due pending event; returns how many were handled."""
    handled = 0
    while True:
        count = _process_batch(batch_size)
        handled += count
        if count < batch_size:
            return handled


def _process_batch(limit: int) -> int:
    # Product facts come from the platform: fetched here, before the batch's transaction
    # opens, never inside it (no HTTP call may hold a write transaction, or SQLite's lock).
    look_up_products(limit)
    session = new_session()
    events = []
    try:
        with session.begin():
            events = _claim(session, limit)
            if not events:
                return 0
            shops: dict[str, ShopContext] = {}
            outcomes = [outcome for run in _runs(events) for outcome in _apply_run(session, shops, run)]
            _record(session, outcomes, {event.id: event.shop_domain for event in events})
        return len(events)
    except BaseTimeoutException:
        raise  # the job ran out of time: RQ must see it, or the worker would carry on past it
    except Exception as error:
        log.warning("batch of webhook events failed (%s); retrying them one by one", describe(error))
        session.rollback()
        ids = [event.id for event in events]
        for event_id in ids:
            _process_one(event_id)
        return len(ids)
    finally:
        session.close()


def _process_one(event_id: int) -> None:
    for attempt in range(1, LOCK_CONFLICT_TRIES + 1):
        session = new_session()
        try:
            with session.begin():
                events = _claim(session, 1, event_id)
                if events:
                    _record(session, [_apply(session, {}, events[0])], {event_id: events[0].shop_domain})
            return
        except DBAPIError as error:
            session.rollback()
            # Two workers' batches can deadlock on the members they share; PostgreSQL aborts one.
            # Trying again at once is all it takes, not a backoff measured in seconds.
            if _is_lock_conflict(error) and attempt < LOCK_CONFLICT_TRIES:
                time.sleep(random.uniform(0.01, 0.05) * attempt)
                continue
            _fail_once(event_id, error)
            return
        except BaseTimeoutException:
            raise
        except Exception as error:
            session.rollback()
            _fail_once(event_id, error)
            return
        finally:
            session.close()


def _fail_once(event_id: int, error: Exception) -> None:
    log.warning("webhook event %s failed: %s", event_id, type(error).__name__)
    _record_transient_failure(event_id, error, final=fails_for_good(error))


def fails_for_good(error: Exception) -> bool:
    """Whether the same event would fail the same way on every try: a figure past its bound,
    or past a 64-bit column's range (Python's int for SQLite, PostgreSQL's SQLSTATE 22003
    numeric_value_out_of_range, SQLite's SUM overflow and the integer guards of migration 0017)."""
    if isinstance(error, (OutOfBounds, OverflowError)):
        return True
    if isinstance(error, DBAPIError):
        message = str(error.orig)
        return (getattr(error.orig, "sqlstate", None) == "22003" or "integer overflow" in message
                or "not a 64-bit integer" in message)
    return False


def _is_lock_conflict(error: DBAPIError) -> bool:
    # SQLSTATE 40P01 deadlock_detected, 40001 serialization_failure, 55P03 lock_not_available.
    return getattr(error.orig, "sqlstate", None) in ("40P01", "40001", "55P03")


def _claim(session: Session, limit: int, event_id: int | None = None) -> list:
    query = select(EVENTS.c.id, EVENTS.c.topic, EVENTS.c.shop_domain, EVENTS.c.payload, EVENTS.c.received_at,
                   EVENTS.c.triggered_at).where(
        EVENTS.c.status == EventStatus.PENDING, EVENTS.c.next_attempt_at <= utcnow())
    if event_id is not None:
        query = query.where(EVENTS.c.id == event_id)
    # SKIP LOCKED: concurrent workers each take their own events instead of queueing up.
    return session.execute(query.order_by(EVENTS.c.id).limit(limit).with_for_update(skip_locked=True)).all()


def _runs(events: list) -> list[list]:
    """Consecutive events of one shop and topic, kept in arrival order."""
    runs: list[list] = []
    for event in events:
        if runs and (runs[-1][0].shop_domain, runs[-1][0].topic) == (event.shop_domain, event.topic):
            runs[-1].append(event)
        else:
            runs.append([event])
    return runs


def _apply_run(session: Session, shops: dict[str, ShopContext], run: list) -> list[Outcome]:
    """A handler with `apply_many` takes a run in one go (orders/paid: a few statements for
    the lot instead of a few per order); everything else goes event by event."""
    handler = HANDLERS.get(run[0].topic)
    if len(run) == 1 or not hasattr(handler, "apply_many") or shops.get(run[0].shop_domain) is ERASED:
        return [_apply(session, shops, event) for event in run]
    outcomes, parsed = [], []
    for event in run:
        try:
            payload = parse_body(event.payload)
            facts = handler.parse(payload)
        except PayloadError as error:
            outcomes.append(Outcome(event.id, str(error)))
            continue
        parsed.append((facts, Delivery(event.id, event.received_at, _triggered_at(event.triggered_at))))
        outcomes.append(Outcome(event.id, customer_id=customer_named(event.topic, payload)))
    if parsed:
        waiting = _waiting(handler.apply_many(session, _shop(session, shops, run[0].shop_domain), parsed))
        outcomes = [replace(o, waits=True) if o.event_id in waiting else o for o in outcomes]
    return outcomes


def _waiting(answer) -> set[int]:
    """The event ids a handler asks to try again later: it says so by returning a set of them
    (orders/paid, for orders waiting for product facts); any other answer means none."""
    return answer if isinstance(answer, set) else set()


def _shop(session: Session, shops: dict[str, ShopContext], domain: str) -> ShopContext:
    if not isinstance(shops.get(domain), ShopContext):
        shops[domain] = shop_context(session, domain)
    return shops[domain]


def _apply(session: Session, shops: dict[str, ShopContext], event) -> Outcome:
    if shops.get(event.shop_domain) is ERASED and not _still_stored(session, event.id):
        return Outcome(event.id)  # a shop/redact earlier in this batch deleted it with its shop
    handler = HANDLERS.get(event.topic)
    try:
        if handler is None:
            raise PayloadError(f"no handler for topic {event.topic!r}")
        payload = parse_body(event.payload)
        facts = handler.parse(payload)
    except PayloadError as error:
        return Outcome(event.id, str(error))
    delivery = Delivery(event.id, event.received_at, _triggered_at(event.triggered_at))
    waiting = _waiting(handler.apply(session, _shop(session, shops, event.shop_domain), facts, delivery))
    if event.id in waiting:
        return Outcome(event.id, waits=True)
    if getattr(handler, "ERASES_SHOP", False):
        shops[event.shop_domain] = ERASED
        return Outcome(event.id)
    return Outcome(event.id, customer_id=customer_named(event.topic, payload))


def _still_stored(session: Session, event_id: int) -> bool:
    return session.scalar(select(EVENTS.c.id).where(EVENTS.c.id == event_id)) is not None


def customer_named(topic: str, payload: dict) -> int | None:
    """The customer an order or customer delivery is about (compliance topics scrub themselves)."""
    if topic.startswith("orders/"):
        customer = payload.get("customer")
        return parse_id(str(customer.get("id"))) if isinstance(customer, dict) else None
    if topic in ("customers/create", "customers/update"):
        return parse_id(str(payload.get("id")))
    return None


def _record(session: Session, outcomes: list[Outcome], shop_domain_of: dict[int, str]) -> None:
    now = utcnow()
    # A delivery that arrives after its customer was redacted loses its copy of their data.
    scrub_late_arrivals(session, [(o.event_id, shop_domain_of[o.event_id], o.customer_id)
                                  for o in outcomes if o.error is None and o.customer_id is not None])
    _record_waits(session, [o.event_id for o in outcomes if o.waits], now)
    done = [o.event_id for o in outcomes if o.error is None and not o.waits]
    if done:
        session.execute(update(EVENTS).where(EVENTS.c.id.in_(done)).values(
            status=EventStatus.PROCESSED, processed_at=now, attempts=EVENTS.c.attempts + 1, last_error=None))
    for outcome in outcomes:
        if outcome.error is not None:
            session.execute(update(EVENTS).where(EVENTS.c.id == outcome.event_id).values(
                status=EventStatus.FAILED, attempts=EVENTS.c.attempts + 1, last_error=outcome.error))


def describe(error: Exception) -> str:
    """An error as stored and logged: its kind and the database's own message, never the
    statement's values (they hold customers' emails and names)."""
    if isinstance(error, DBAPIError):
        # With hide_parameters the message has no values; drop the SQL text as well.
        return f"{type(error.orig).__name__}: {str(error.orig).splitlines()[0][:500]}"
    # Python's own messages quote the input they choked on (int("a@b.com") says so in full):
    # whatever they quote goes.
    return QUOTED.sub("'...'", f"{type(error).__name__}: {error}")[:2000]


def _record_waits(session: Session, event_ids: list[int], now: datetime) -> None:
    """Due again after WAIT_DELAY, with no try spent; failed (for a person to retry) only
    once an event has waited MAX_WAIT since it arrived."""
    if not event_ids:
        return
    waiting = EVENTS.c.id.in_(event_ids)
    session.execute(update(EVENTS).where(waiting, EVENTS.c.received_at > now - MAX_WAIT).values(
        next_attempt_at=now + WAIT_DELAY, last_error="waiting for product facts from the platform"))
    session.execute(update(EVENTS).where(waiting, EVENTS.c.received_at <= now - MAX_WAIT).values(
        status=EventStatus.FAILED, attempts=EVENTS.c.attempts + 1,
        last_error=f"product facts could not be looked up for {MAX_WAIT.days} days"))


def _record_transient_failure(event_id: int, error: Exception, final: bool = False) -> None:
    session = new_session()
    try:
        with session.begin():
            attempts = session.scalar(select(EVENTS.c.attempts).where(EVENTS.c.id == event_id)) + 1
            values = {"attempts": attempts, "last_error": describe(error)}
            if final or attempts >= MAX_ATTEMPTS:
                values["status"] = EventStatus.FAILED
            else:
                values["next_attempt_at"] = utcnow() + retry_delay(attempts)
            session.execute(update(EVENTS).where(EVENTS.c.id == event_id).values(**values))
    finally:
        session.close()


def retry_failed(session: Session, event_ids: list[int] | None = None, shop_domain: str | None = None) -> int:
    """Put failed events back in line for an immediate new try; returns how many.

    The CLI (the operator) may retry any shop's; the panel passes its shop's domain.
    """
    query = update(EVENTS).where(EVENTS.c.status == EventStatus.FAILED)
    if event_ids:
        query = query.where(EVENTS.c.id.in_(event_ids))
    if shop_domain is not None:
        query = query.where(EVENTS.c.shop_domain == shop_domain)
    result = session.execute(query.values(status=EventStatus.PENDING, attempts=0, next_attempt_at=utcnow()))
    return result.rowcount


def failed_events(session: Session) -> list[WebhookEvent]:
    return list(session.scalars(select(WebhookEvent).where(WebhookEvent.status == EventStatus.FAILED)
                                .order_by(WebhookEvent.id)))


# The admin panel's view of the events: always one shop's, so a merchant can neither see
# nor retry another store's deliveries.
def shop_events(session: Session, shop_domain: str, status: EventStatus, limit: int = 100) -> list[WebhookEvent]:
    """One shop's events in one status, newest first."""
    return list(session.scalars(select(WebhookEvent).where(
        WebhookEvent.shop_domain == shop_domain, WebhookEvent.status == status)
        .order_by(WebhookEvent.id.desc()).limit(limit)))


def find_shop_event(session: Session, shop_domain: str, event_id: int) -> WebhookEvent | None:
    return session.scalar(select(WebhookEvent).where(
        WebhookEvent.shop_domain == shop_domain, WebhookEvent.id == event_id))


def due_event_exists(session: Session, older_than: timedelta) -> bool:
    cutoff = utcnow() - older_than
    return session.scalar(select(EVENTS.c.id).where(
        EVENTS.c.status == EventStatus.PENDING, EVENTS.c.next_attempt_at <= utcnow(),
        EVENTS.c.received_at <= cutoff).limit(1)) is not None
