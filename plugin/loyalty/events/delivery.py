"""Sending the deliveries owed to the merchant's endpoints: signed, retried, never in the way.

The sender takes the due deliveries in one short transaction (a claim: their next attempt
moves a lease ahead, so two senders never post the same delivery at once), then posts
them with no transaction open, one thread per subscription: a receiver that hangs (5 s
timeout), answers 5xx or is unreachable holds up only its own deliveries. After a failure
the rest of that subscription's batch waits for the next try rather than hammering it.
Each try is recorded in its own short transaction, on the delivery (its last answer) and as
an attempt of its own (when, the HTTP status, the error), of which each delivery keeps the
newest ATTEMPTS_KEPT; after about a day of backoff the delivery is `failed`, listed for the
merchant, and can be put back in line.

Where this job runs (an RQ worker on the `events` queue, or the in-process sender thread)
is its row in the registry of jobs (plugin/jobs.py); plugin/loyalty/events/dispatch.py asks for it.
"""
import base64
import hashlib
import hmac
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import urllib3
from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from plugin.backoff import backoff
from plugin.db import reading_session, transaction, utcnow
from plugin.loyalty.events.dispatch import clear_send_flag, request_sending, send_after_commit
from plugin.loyalty.events.member_events import event_json
from plugin.models import DeliveryAttempt, DeliveryStatus, EventDelivery, EventSubscription, MemberEvent, Shop
from plugin.outbound import UnsafeURL, post
from plugin.shopify.tokens import NotInstalled, decrypt

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
# Tries over about a day: 30 s, 1 min, 2 min ... doubling, each wait at most 4 hours.
MAX_ATTEMPTS = 15
MAX_WAIT = timedelta(hours=4)
# Longer than a batch of one subscription can take, so a live sender keeps its claim.
CLAIM_LEASE = timedelta(minutes=5)
BATCH = 200
PER_SUBSCRIPTION = 20
MAX_THREADS = 8
# The attempts each delivery keeps (its newest): two full rounds of tries, so a delivery a
# person put back in line still shows the round that failed before it.
ATTEMPTS_KEPT = 2 * MAX_ATTEMPTS
# A job stops claiming after this long and asks for a successor (RQ kills a job at 180 s).
JOB_SECONDS = 60


def retry_delay(attempts: int) -> timedelta:
    first = timedelta(seconds=current_app.config.get("EVENT_RETRY_FIRST_SECONDS", 30))
    return min(backoff(attempts, first=first, factor=2), MAX_WAIT)


# --- the job ------------------------------------------------------------------------------

def send_due_deliveries() -> int:
    """The job: send every due delivery; returns how many were tried."""
    clear_send_flag()
    tried, deadline = 0, time.monotonic() + JOB_SECONDS
    while time.monotonic() < deadline:
        batch = _claim_due()
        if not batch:
            return tried
        tried += sum(len(ids) for ids in batch.values())
        _send_batch(batch)
    request_sending()  # more is due: a fresh job, well inside RQ's job timeout
    return tried


# --- claiming and sending ----------------------------------------------------------------

def _claim_due() -> dict[int, list[int]]:
    """Due delivery ids by subscription (at most PER_SUBSCRIPTION each), claimed for CLAIM_LEASE."""
    now = utcnow()
    with transaction() as session:
        due = session.execute(select(EventDelivery.id, EventDelivery.subscription_id).where(
            EventDelivery.status == DeliveryStatus.PENDING, EventDelivery.next_attempt_at <= now)
            .order_by(EventDelivery.id).limit(BATCH)).all()
        picked: dict[int, list[int]] = {}
        for row in due:
            if len(picked.setdefault(row.subscription_id, [])) < PER_SUBSCRIPTION:
                picked[row.subscription_id].append(row.id)
        wanted = [delivery_id for ids in picked.values() for delivery_id in ids]
        if not wanted:
            return {}
        # Only what this sender will post now is claimed: the rest stays due for the next round.
        claimed = set(session.scalars(update(EventDelivery).where(
            EventDelivery.id.in_(wanted), EventDelivery.status == DeliveryStatus.PENDING,
            EventDelivery.next_attempt_at <= now,
        ).values(next_attempt_at=now + CLAIM_LEASE).returning(EventDelivery.id)
            .execution_options(synchronize_session=False)))
    return {subscription: [i for i in ids if i in claimed] for subscription, ids in picked.items()
            if any(i in claimed for i in ids)}


def _send_batch(batch: dict[int, list[int]]) -> None:
    app = current_app._get_current_object()

    def send_subscription(subscription_id: int, ids: list[int]) -> None:
        with app.app_context():
            for position, delivery_id in enumerate(ids):
                if not send_one(delivery_id):
                    _postpone_rest(ids[position + 1:], delivery_id)
                    return

    with ThreadPoolExecutor(max_workers=min(MAX_THREADS, len(batch))) as pool:
        for future in [pool.submit(send_subscription, sid, ids) for sid, ids in batch.items()]:
            future.result()


def send_one(delivery_id: int) -> bool:
    """Post one claimed delivery and record the answer; True if the receiver took it."""
    session = reading_session()
    try:
        with session.begin():
            request = _request(session, delivery_id)
    finally:
        session.close()
    if request is None:
        return True  # deleted meanwhile (subscription removed, shop erased)
    if isinstance(request, str):
        with transaction() as session:
            _record(session, delivery_id, None, request)
        return False
    url, body, headers = request
    status, error = None, None
    try:
        answer = post(url, body, headers, current_app.config.get("EVENT_DELIVERY_TIMEOUT", TIMEOUT_SECONDS),
                      current_app.config["LOYALTY_ENV"] == "development")
        status = answer.status
        if not 200 <= answer.status < 300:
            error = f"HTTP {answer.status}: {answer.body[:200]}"
    except UnsafeURL as unsafe:
        error = f"refused: the URL {unsafe}"
    except urllib3.exceptions.TimeoutError:
        error = "no answer within the timeout"
    except (urllib3.exceptions.HTTPError, OSError) as failure:
        error = f"unreachable ({type(failure).__name__})"
    with transaction() as session:
        _record(session, delivery_id, status, error)
    return error is None


def _request(session: Session, delivery_id: int) -> tuple[str, bytes, dict] | str | None:
    """(url, body, headers) to post; a reason not to post; None if the delivery is gone."""
    delivery = session.get(EventDelivery, delivery_id)
    if delivery is None:
        return None
    subscription = session.get(EventSubscription, delivery.subscription_id)
    shop = session.get(Shop, delivery.shop_id)
    if delivery.event_id is None:
        kind, payload = sample_event(subscription, delivery)
    else:
        event = session.get(MemberEvent, delivery.event_id)
        kind, payload = event.kind.value, event_json(event)
    body = json.dumps({**payload, "shop": shop.domain}, separators=(",", ":")).encode()
    try:
        secret = decrypt(subscription.secret)
    except NotInstalled:  # its key was dropped before `rotate-encryption-key` re-encrypted it
        return "not sent: the signing secret cannot be decrypted with the configured keys"
    headers = {"Content-Type": "application/json", "User-Agent": "loyalty-app-events/1",
               "X-Loyalty-Event-Id": str(payload["id"]), "X-Loyalty-Event-Kind": kind,
               "X-Loyalty-Hmac-Sha256": sign(secret, body)}
    return subscription.url, body, headers


def sign(secret: str, body: bytes) -> str:
    """base64 HMAC-SHA256 of the raw body: the way the platform signs its webhooks to us."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def sample_event(subscription: EventSubscription, delivery: EventDelivery) -> tuple[str, dict]:
    kind = subscription.kinds[0]
    return kind, {"id": f"sample-{delivery.id}", "kind": kind, "customer_id": "0", "sample": True,
                  "data": {"note": "a sample event sent from the loyalty app's panel"},
                  "created_at": delivery.created_at.isoformat()}


def _record(session: Session, delivery_id: int, status: int | None, error: str | None) -> None:
    delivery = session.get(EventDelivery, delivery_id)
    if delivery is None or delivery.status is not DeliveryStatus.PENDING:
        return
    now = utcnow()
    delivery.attempts += 1
    delivery.last_attempt_at, delivery.response_status, delivery.error = now, status, (error or None) and error[:500]
    _keep_attempt(session, delivery, now)
    if error is None:
        delivery.status, delivery.delivered_at = DeliveryStatus.SUCCEEDED, now
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        log.warning("event delivery %s failed after %s tries", delivery_id, delivery.attempts)
    else:
        delivery.next_attempt_at = now + retry_delay(delivery.attempts)
    session.flush()


def _keep_attempt(session: Session, delivery: EventDelivery, now) -> None:
    """This try in the delivery's history; tries older than its newest ATTEMPTS_KEPT go."""
    session.add(DeliveryAttempt(shop_id=delivery.shop_id, delivery_id=delivery.id, attempted_at=now,
                                response_status=delivery.response_status, error=delivery.error))
    session.flush()
    oldest_kept = session.scalar(select(DeliveryAttempt.id).where(DeliveryAttempt.delivery_id == delivery.id)
                                 .order_by(DeliveryAttempt.id.desc()).offset(ATTEMPTS_KEPT - 1).limit(1))
    if oldest_kept is not None:
        session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery.id,
                                                      DeliveryAttempt.id < oldest_kept)
                        .execution_options(synchronize_session=False))


def attempts_of(session: Session, delivery_ids: list[int]) -> dict[int, list[DeliveryAttempt]]:
    """Each delivery's kept attempts, newest first, in one read."""
    history: dict[int, list[DeliveryAttempt]] = {delivery_id: [] for delivery_id in delivery_ids}
    if delivery_ids:
        for attempt in session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(delivery_ids))
                                       .order_by(DeliveryAttempt.id.desc())):
            history[attempt.delivery_id].append(attempt)
    return history


def _postpone_rest(ids: list[int], failed_id: int) -> None:
    """The receiver just failed: its other claimed deliveries wait for its next try."""
    if not ids:
        return
    with transaction() as session:
        next_try = session.scalar(select(EventDelivery.next_attempt_at).where(EventDelivery.id == failed_id))
        session.execute(update(EventDelivery).where(
            EventDelivery.id.in_(ids), EventDelivery.status == DeliveryStatus.PENDING,
        ).values(next_attempt_at=next_try or utcnow()).execution_options(synchronize_session=False))


# --- what the panel asks for -------------------------------------------------------------

def owe_sample(session: Session, subscription: EventSubscription) -> EventDelivery:
    """A sample delivery to this subscription, sent after the commit."""
    delivery = EventDelivery(shop_id=subscription.shop_id, subscription_id=subscription.id,
                             status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=utcnow())
    session.add(delivery)
    session.flush()
    send_after_commit(session)
    return delivery


def retry_delivery(session: Session, shop_id: int, delivery_id: int) -> EventDelivery | None:
    """Put a failed (or waiting) delivery back in line now; None if the shop has no such one."""
    delivery = find_delivery(session, shop_id, delivery_id)
    if delivery is None or delivery.status is DeliveryStatus.SUCCEEDED:
        return delivery
    delivery.status, delivery.next_attempt_at = DeliveryStatus.PENDING, utcnow()
    if delivery.attempts >= MAX_ATTEMPTS:
        delivery.attempts = 0  # a person asked: a fresh day of tries
    session.flush()
    send_after_commit(session)
    return delivery


def find_delivery(session: Session, shop_id: int, delivery_id: int) -> EventDelivery | None:
    return session.scalar(select(EventDelivery).where(EventDelivery.shop_id == shop_id,
                                                      EventDelivery.id == delivery_id))


def recent_deliveries(session: Session, shop_id: int, subscription_id: int | None = None,
                      status: DeliveryStatus | None = None, limit: int = 50) -> list[EventDelivery]:
    where = [EventDelivery.shop_id == shop_id]
    if subscription_id is not None:
        where.append(EventDelivery.subscription_id == subscription_id)
    if status is not None:
        where.append(EventDelivery.status == status)
    return list(session.scalars(select(EventDelivery).where(*where).order_by(EventDelivery.id.desc()).limit(limit)))
