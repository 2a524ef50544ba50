"""What runs on its own: the sweeper, the periodic jobs, and the workers' heartbeat.

One list, `PERIODIC`, says every job that runs on a clock and how often. The sweeper (a
thread in every worker, and in `serve`) wakes every SWEEP_INTERVAL_SECONDS: it asks for a
webhook drain if an acknowledged event has waited too long, and starts each periodic job
that is due, asking for the registry's "periodic" job (plugin/jobs.py) with its name. With
Redis, "due" is decided in Redis (SET NX on the job's time window), so however many workers
sweep, each job runs once per interval, on a worker; without Redis the sweeper runs it in
its own process. This module wires the others together: with the app factory, the CLI and
the registry of jobs, it is one of the few places that import both the domain and the
webhook side.
"""
import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from flask import current_app
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from plugin.db import new_session, transaction, utcnow
from plugin.loyalty.events.dispatch import request_sending
from plugin.loyalty.events.flow_triggers import request_sending as request_flow_triggers
from plugin.loyalty.events.store_sync import sync_store
from plugin.loyalty.imports.jobs import apply_pending_imports
from plugin.loyalty.privacy import blank_old_payloads
from plugin.loyalty.referrals.welcome_codes import withdraw_welcome_codes
from plugin.loyalty.rewards.redemptions import retry_due_codes
from plugin.loyalty.rewards.store_credit import retry_due_credits
from plugin.loyalty.rewards.tier_perks import sync_due_perks
from plugin.loyalty.shop_facts import fill_missing_shop_facts
from plugin.loyalty.tick import TickRunning, run_tick
from plugin.queue import Flag, heartbeat_key, prefixed, redis_connection, request
from webhooks.jobs import schedule_drain
from webhooks.past_orders import run_past_orders
from webhooks.processing import due_event_exists
from webhooks.reconcile import reconcile_periodically

log = logging.getLogger(__name__)

# An event older than this that is still due means its drain was lost: ask again.
SWEEP_AGE = timedelta(seconds=5)
# A worker says it is alive this often; /healthz wants to have heard from one recently.
HEARTBEAT_SECONDS = 10


def purge_install_nonces() -> int:
    from admin_ui.install import purge_expired_oauth_states

    with transaction() as session:
        return purge_expired_oauth_states(session)


def blank_expired_payloads() -> int:
    with transaction() as session:
        return blank_old_payloads(session, timedelta(days=current_app.config["PAYLOAD_RETENTION_DAYS"]))


@dataclass(frozen=True)
class Periodic:
    name: str
    every: timedelta
    run: Callable[[], object]


def tick_now() -> dict | None:
    try:
        return run_tick(utcnow())
    except TickRunning:
        return None  # a cron job or another worker is ticking: this one is not needed


PERIODIC = (
    Periodic("codes", timedelta(minutes=1), retry_due_codes),
    Periodic("credits", timedelta(minutes=1), retry_due_credits),
    # Tier perks whose segment or automatic discount the store does not match yet (tiers/perks.py).
    Periodic("tier-perks", timedelta(minutes=1), sync_due_perks),
    # An import whose apply job stopped half-way (a worker lost): finished here.
    Periodic("imports", timedelta(minutes=1), apply_pending_imports),
    # Past orders whose bulk operation was still running, or whose job stopped half-way.
    Periodic("past-orders", timedelta(minutes=1), run_past_orders),
    # Welcome codes of referrals rejected before their code was used, switched off on the platform.
    Periodic("welcome-codes", timedelta(minutes=5), withdraw_welcome_codes),
    Periodic("tick", timedelta(minutes=5), tick_now),
    Periodic("install-nonces", timedelta(hours=1), purge_install_nonces),
    Periodic("payload-retention", timedelta(hours=1), blank_expired_payloads),
    Periodic("shop-facts", timedelta(minutes=10), fill_missing_shop_facts),
    # Deliveries whose retry came due, or whose request was lost with Redis.
    Periodic("event-deliveries", timedelta(minutes=1), request_sending),
    # Flow trigger calls whose retry came due, or whose request was lost with Redis.
    Periodic("flow-triggers", timedelta(minutes=1), request_flow_triggers),
    # Once a minute: what coalesces a member's changes into one write (plugin/loyalty/events/store_sync.py).
    Periodic("store-sync", timedelta(minutes=1), sync_store),
    # Orders the webhooks missed, read back from each shop (webhooks/reconcile.py).
    Periodic("reconcile", timedelta(hours=1), reconcile_periodically),
)
# The window each periodic job was last started in, by app and job: a sweeper asks once a window.
_started: dict[tuple[int, str], int] = {}


def run_periodic(name: str):
    """The job: run one periodic job now, by name (what the sweeper enqueues)."""
    return next(job for job in PERIODIC if job.name == name).run()


def sweep_once() -> bool:
    """Ask for a drain if an event has waited too long, and start the periodic jobs that
    are due; True if a drain was asked for."""
    session = new_session()
    try:
        waiting = due_event_exists(session, SWEEP_AGE)
    finally:
        session.close()
    if waiting:
        schedule_drain(f"sweep-{int(time.time())}", despite_flag=True)
    for job in PERIODIC:
        _start_if_due(job)
    return waiting


def _start_if_due(job: Periodic) -> None:
    seconds = job.every.total_seconds()
    window = int(time.time() // seconds)
    key = (id(current_app._get_current_object()), job.name)
    if _started.get(key) == window:
        return
    # With Redis the first sweeper in the window claims it (the flag is never cleared, so the
    # others see it and pass); without, it runs here.
    claim = Flag(prefixed(f"periodic:{job.name}:{window}"), int(seconds) + 60)
    if request("periodic", job.name, job_id=f"periodic-{job.name}-{window}", coalesce=claim,
               result_ttl=int(seconds)):
        _started[key] = window


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

    thread = threading.Thread(target=run, name="sweeper", daemon=True)
    thread.start()
    return thread


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
                except RedisError as error:  # out of memory, read-only after a failover: try again later
                    log.warning("worker heartbeat not written (%s)", type(error).__name__)
            if stop.wait(HEARTBEAT_SECONDS):
                return

    thread = threading.Thread(target=run, name="worker-heartbeat", daemon=True)
    thread.start()
    return thread
