"""`tick`: every time-driven change, at one moment, once at a time across all processes.

A tick expires discount codes past their expiry (and its grace), releases pending points,
expires points and records expiry reminders (plugin/loyalty/ledger/lifecycle.py); tiers and
birthdays add their steps to `STEPS`, and churn risk its `member_at_risk` crossings
(plugin/loyalty/churn/crossings.py). Each step is idempotent and set-based, so a tick
killed half-way is finished by the next one, and a second tick at the same moment changes
nothing. A lease (plugin/leases.py) keeps two ticks from running at
once, whether they come from the workers' schedule or from cron.
"""
import time
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from plugin import leases
from plugin.db import is_busy, transaction
from plugin.loyalty.churn.crossings import raise_at_risk_events
from plugin.loyalty.ledger.lifecycle import expire_points, release_pending, remind_expiring
from plugin.loyalty.referrals.birthdays import grant_birthday_bonuses_step
from plugin.loyalty.rewards.code_usage import expire_codes
from plugin.loyalty.tiers.review import review_tiers

LEASE = "tick"
# Longer than a tick takes; a tick that dies leaves the next one waiting at most this long.
LEASE_LASTS = timedelta(minutes=10)
STEP_ATTEMPTS = 4

STEPS: tuple[tuple[str, Callable[[Session, datetime], int]], ...] = (
    ("codes_expired", expire_codes),
    ("pending_released", release_pending),
    ("points_expired", expire_points),
    ("expiry_reminders", remind_expiring),
    ("birthday_bonuses", grant_birthday_bonuses_step),
    ("tiers_reviewed", review_tiers),
    ("members_at_risk", raise_at_risk_events),
)


class TickRunning(Exception):
    """Another tick holds the lease; this one did nothing."""


def run_tick(now: datetime) -> dict[str, int]:
    """Run every step at `now`, each in its own transaction; what each changed."""
    holder = leases.take(LEASE, LEASE_LASTS)
    if holder is None:
        raise TickRunning("another tick is running")
    try:
        done = {}
        for name, step in STEPS:
            # Renewed before each step, so a long tick keeps its lease; one that lost it
            # (it ran past LEASE_LASTS and another took over) stops.
            if not leases.renew(LEASE, holder, LEASE_LASTS):
                raise TickRunning("this tick's lease lapsed and another tick took over")
            done[name] = _run_step(step, now)
        return done
    finally:
        leases.give_back(LEASE, holder)


def _run_step(step: Callable[[Session, datetime], int], now: datetime) -> int:
    """One step in its own transaction, run again when it lost a deadlock: a tick's bulk
    UPDATEs take rows in another order than a worker's batch does (codes, then members)."""
    for attempt in range(1, STEP_ATTEMPTS):
        try:
            with transaction() as session:
                return step(session, now)
        except DBAPIError as error:
            if not is_busy(error):
                raise
            time.sleep(0.05 * attempt)
    with transaction() as session:  # the last try lets its error through
        return step(session, now)
