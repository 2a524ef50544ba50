"""Firing the Shopify Flow triggers that are owed: at least once, throttle-aware, never in the way.

The sender claims the due calls in one short transaction (their next attempt moves a lease
ahead, so two senders never fire the same call at once), then fires them with no
transaction open, shop by shop. The Admin API client waits out THROTTLED answers by the
bucket's restore rate; a call still throttled (or the platform down) after its tries waits
with backoff, and the rest of that shop's batch waits with it rather than spend the bucket
again. A call the platform refuses (userErrors, a payload over 50 KB, an uninstalled shop)
is `failed` at once: retrying cannot help. After MAX_ATTEMPTS it is `failed` too. A call
that went out but whose answer was lost is fired again: Flow gets it at least once.

Where this job runs (the `platform` queue, or the in-process sender thread) is its row in
plugin/jobs.py; plugin/loyalty/events/flow_triggers.py asks for it after each commit.
"""
import logging
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from plugin.backoff import backoff
from plugin.db import transaction, utcnow
from plugin.loyalty.events.flow_triggers import TRIGGER_ROWS, clear_send_flag, request_sending
from plugin.models import Shop, TriggerStatus
from plugin.shopify.client import AdminClient, PlatformError, PlatformUnavailable
from plugin.shopify.flow import FlowPayloadTooLarge, fire_trigger
from plugin.shopify.grants import PlatformAuthError
from plugin.shopify.tokens import NotInstalled

log = logging.getLogger(__name__)

# Tries over about a day: 30 s, 1 min, 2 min ... doubling, each wait at most 4 hours.
MAX_ATTEMPTS = 15
MAX_WAIT = timedelta(hours=4)
# Longer than a batch can take (each call waits out at most a few throttled answers).
CLAIM_LEASE = timedelta(minutes=5)
BATCH = 100
# A job stops claiming after this long and asks for a successor (RQ kills a job at 180 s).
JOB_SECONDS = 60


def retry_delay(attempts: int) -> timedelta:
    first = timedelta(seconds=current_app.config.get("FLOW_RETRY_FIRST_SECONDS", 30))
    return min(backoff(attempts, first=first, factor=2), MAX_WAIT)


def send_due_triggers() -> int:
    """The job: fire every due trigger call; returns how many were tried."""
    clear_send_flag()
    tried, deadline = 0, time.monotonic() + JOB_SECONDS
    while time.monotonic() < deadline:
        batch = _claim_due()
        if not batch:
            return tried
        for shop_id, calls in batch.items():
            tried += _fire_shop(shop_id, calls)
    request_sending()  # more is due: a fresh job, well inside RQ's job timeout
    return tried


def _claim_due() -> dict[int, list[tuple[int, str, dict]]]:
    """Due calls by shop, (id, handle, payload) each, claimed for CLAIM_LEASE."""
    now = utcnow()
    with transaction() as session:
        due = session.execute(select(TRIGGER_ROWS.c.id).where(
            TRIGGER_ROWS.c.status == TriggerStatus.PENDING, TRIGGER_ROWS.c.next_attempt_at <= now)
            .order_by(TRIGGER_ROWS.c.id).limit(BATCH)).scalars().all()
        if not due:
            return {}
        claimed = session.execute(update(TRIGGER_ROWS).where(
            TRIGGER_ROWS.c.id.in_(due), TRIGGER_ROWS.c.status == TriggerStatus.PENDING,
            TRIGGER_ROWS.c.next_attempt_at <= now,
        ).values(next_attempt_at=now + CLAIM_LEASE).returning(
            TRIGGER_ROWS.c.id, TRIGGER_ROWS.c.shop_id, TRIGGER_ROWS.c.handle, TRIGGER_ROWS.c.payload)).all()
    batch: dict[int, list[tuple[int, str, dict]]] = {}
    for row in sorted(claimed, key=lambda row: row.id):
        batch.setdefault(row.shop_id, []).append((row.id, row.handle, row.payload))
    return batch


def _fire_shop(shop_id: int, calls: list[tuple[int, str, dict]]) -> int:
    """Fire one shop's calls in order; after a failure worth retrying the rest wait with it."""
    with transaction() as session:
        shop = session.get(Shop, shop_id)
        domain = None if shop is None or shop.access_token is None else shop.domain
    if domain is None:
        with transaction() as session:
            _give_up(session, [call_id for call_id, _handle, _body in calls], "the shop is not installed")
        return len(calls)
    client = AdminClient(shop_id, domain)
    for position, (call_id, handle, body) in enumerate(calls):
        error, retry = _fire(client, handle, body)
        with transaction() as session:
            _record(session, call_id, error, retry)
        if error is not None and retry:
            _postpone_rest([c[0] for c in calls[position + 1:]], after=call_id)
            return position + 1
    return len(calls)


def _fire(client: AdminClient, handle: str, body: dict) -> tuple[str | None, bool]:
    """(what went wrong or None, whether to try again later)."""
    try:
        fire_trigger(client, handle, body)
    except (PlatformUnavailable, PlatformAuthError) as failure:
        return f"not sent yet: {failure}", True
    except (PlatformError, NotInstalled, FlowPayloadTooLarge) as refused:
        return f"refused: {refused}", False
    return None, False


def _record(session: Session, call_id: int, error: str | None, retry: bool) -> None:
    row = session.execute(select(TRIGGER_ROWS.c.status, TRIGGER_ROWS.c.attempts, TRIGGER_ROWS.c.handle)
                          .where(TRIGGER_ROWS.c.id == call_id)).first()
    if row is None or row.status != TriggerStatus.PENDING:
        return
    now, attempts = utcnow(), row.attempts + 1
    values = dict(attempts=attempts, last_attempt_at=now, error=error[:500] if error else None)
    if error is None:
        values.update(status=TriggerStatus.SENT, sent_at=now)
    elif not retry or attempts >= MAX_ATTEMPTS:
        values.update(status=TriggerStatus.FAILED)
        log.warning("flow trigger %s (%s) failed after %s tries", call_id, row.handle, attempts)
    else:
        values.update(next_attempt_at=now + retry_delay(attempts))
    session.execute(update(TRIGGER_ROWS).where(TRIGGER_ROWS.c.id == call_id).values(**values))


def _give_up(session: Session, ids: list[int], reason: str) -> None:
    session.execute(update(TRIGGER_ROWS).where(TRIGGER_ROWS.c.id.in_(ids), TRIGGER_ROWS.c.status ==
                                               TriggerStatus.PENDING)
                    .values(status=TriggerStatus.FAILED, error=reason, last_attempt_at=utcnow()))


def _postpone_rest(ids: list[int], after: int) -> None:
    """The platform just failed this shop: its other claimed calls wait for the same next try."""
    if not ids:
        return
    with transaction() as session:
        next_try = session.scalar(select(TRIGGER_ROWS.c.next_attempt_at).where(TRIGGER_ROWS.c.id == after))
        session.execute(update(TRIGGER_ROWS).where(
            TRIGGER_ROWS.c.id.in_(ids), TRIGGER_ROWS.c.status == TriggerStatus.PENDING,
        ).values(next_attempt_at=next_try or utcnow()))


def recent_triggers(session: Session, shop_id: int, limit: int = 50) -> list:
    """The shop's latest trigger calls, newest first (for the development store's page)."""
    return session.execute(select(TRIGGER_ROWS).where(TRIGGER_ROWS.c.shop_id == shop_id)
                           .order_by(TRIGGER_ROWS.c.id.desc()).limit(limit)).all()
