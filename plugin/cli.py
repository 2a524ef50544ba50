"""The `flask --app plugin <command>` commands (SPEC "CLI")."""
import logging
import os
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from redis.exceptions import RedisError
from rq import SimpleWorker
from sqlalchemy import select

from plugin import migrate
from plugin.db import engine, transaction, utcnow
from plugin.loyalty.events.subscriptions import rotate_subscription_secrets
from plugin.loyalty.ledger.verification import verify_balances, verify_pending
from plugin.loyalty.shops import is_shop_domain
from plugin.loyalty.tick import TickRunning, run_tick
from plugin.loyalty.tiers.totals import verify_totals
from plugin.models import Shop
from plugin.queue import EVENTS, PLATFORM, WEBHOOKS, RegisteredJob, queue, redis_connection

# Every queue a worker takes by default, most urgent first: points before platform calls
# before member events.
QUEUES = [WEBHOOKS, PLATFORM, EVENTS]
from plugin.replay import HttpSender, InProcessSender, load_recordings, replay
from plugin.rq_scheduler import SchedulerDiesWithWorker
from plugin.schedule import start_heartbeat, start_sweeper, sweep_once
from plugin.shopify.session_tokens import issue
from plugin.shopify.tokens import rotate_encryption_key
from webhooks.jobs import schedule_drain
from webhooks.processing import describe, failed_events, retry_failed
from webhooks.reconcile import reconcile_all

log = logging.getLogger(__name__)
db_group = AppGroup("db", help="Database schema commands.")


@db_group.command("upgrade")
def db_upgrade():
    """Apply every Alembic migration up to head."""
    migrate.upgrade(current_app.config["DATABASE_URL"])
    click.echo("database is at the latest migration")


@click.command("worker")
@with_appcontext
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option("--queues", "names", default=",".join(QUEUES), show_default=True,
              help="Queues to take, in priority order; e.g. a worker of its own for `events`, so a slow "
                   "receiver of member events never holds a worker that webhooks wait for.")
def worker(burst: bool, names: str):
    """Run an RQ worker (webhooks, platform calls, member events), with the sweeper alongside."""
    chosen = [name.strip() for name in names.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(QUEUES))
    if not chosen or unknown:
        raise click.BadParameter(f"must name queues among {', '.join(QUEUES)}", param_hint="--queues")
    connection = redis_connection(for_worker=True)
    if connection is None:
        raise click.ClickException("REDIS_URL is not set: jobs run in-process, no worker is needed")
    app, stop = current_app._get_current_object(), threading.Event()
    start_sweeper(app, stop)
    start_heartbeat(app, stop)
    sweep_once()
    # Close what the sweep opened before RQ forks its scheduler: a child must not share them.
    engine().dispose()
    try:
        work_through_outages(connection, burst, chosen)
    finally:
        stop.set()


class Worker(SchedulerDiesWithWorker, SimpleWorker):
    """RQ's SimpleWorker, which also remembers that it was asked to stop (SIGTERM, SIGINT),
    and whose scheduler child dies with it (plugin/rq_scheduler.py).

    SimpleWorker runs jobs in this process: a fork per job would cost more than a whole
    batch of orders and would inherit pooled database connections.
    """

    stopping = False

    def request_stop(self, signum, frame):
        self.stopping = True
        super().request_stop(signum, frame)


def work_through_outages(connection, burst: bool, names: list[str] = QUEUES) -> None:
    """Run the RQ worker; when it quits because Redis went away, start it again with backoff.

    RQ's work loop quits on a Redis error (even one from reporting a finished job), which
    would leave the backlog to no one once Redis is back.
    """
    delay, rq_worker = 1, None
    while True:
        started = time.monotonic()
        try:
            # Made anew each time: RQ's constructor already talks to Redis.
            # RegisteredJob runs a job by its registry name (or a legacy path: plugin/jobs.py).
            rq_worker = Worker([queue(name, connection) for name in names], connection=connection,
                               job_class=RegisteredJob)
            rq_worker.work(burst=burst, with_scheduler=not burst,
                           logging_level=os.environ.get("LOG_LEVEL", "INFO"))
        except RedisError as error:  # at start, or in a teardown that could not reach Redis either
            log.warning("worker stopped: Redis unreachable (%s)", type(error).__name__)
        if burst or (rq_worker is not None and rq_worker.stopping):
            return
        delay = 1 if time.monotonic() - started > 60 else min(delay * 2, 30)
        log.warning("worker lost Redis; starting again in %s s", delay)
        time.sleep(delay)


@click.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8080, type=int)
def serve(host: str, port: int):
    """Serve the app (development server) with the sweeper running in-process."""
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()
    if app.config["LOYALTY_ENV"] == "development":
        # The development shop's Admin API calls come back to this server (plugin/dev_shop.py).
        app.config["SHOPIFY_APP_URL"] = os.environ.get("SHOPIFY_APP_URL") or f"http://{host}:{port}"
        click.echo(f"Try it without a store: http://{host}:{port}/dev")
    start_sweeper(app, threading.Event())
    run_simple(host, port, app, threaded=True)


@click.command("replay")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--url", help="Base URL of a running app; without it, requests go in-process.")
@click.option("--secret", help="Signing secret (default: this app's SHOPIFY_API_SECRET).")
@click.option("--concurrency", default=1, show_default=True, help="Requests in flight at once.")
def replay_command(path: Path, url: str | None, secret: str | None, concurrency: int):
    """Sign and send recorded webhooks from a file or directory."""
    try:
        recordings = load_recordings(path)
    except ValueError as error:  # json.JSONDecodeError is a ValueError too
        raise click.ClickException(f"cannot read the recordings: {error}") from None
    secret = secret or current_app.config["SHOPIFY_API_SECRET"]
    send = HttpSender(url, secret) if url else InProcessSender(current_app._get_current_object(), secret)
    with click.progressbar(length=len(recordings), label="replaying", file=sys.stderr) as bar:
        answers = replay(recordings, send, concurrency, bar.update)
    summary = ", ".join(f"{count} × {status or 'no answer'}" for status, count in sorted(answers.items()))
    click.echo(f"sent {len(recordings)} webhooks: {summary}")
    if any(not 200 <= status < 300 for status in answers):
        sys.exit(1)


@click.command("retry-failed")
@with_appcontext
@click.option("--list", "list_only", is_flag=True, help="Only list the failed events.")
@click.option("--id", "event_ids", type=int, multiple=True, help="Retry only these event ids.")
def retry_failed_command(list_only: bool, event_ids: tuple[int, ...]):
    """List failed webhook events, or put them back in line."""
    if list_only:
        with transaction() as session:
            events = failed_events(session)
        for event in events:
            click.echo(f"{event.id}\t{event.topic}\t{event.shop_domain}\t{event.webhook_id}\t"
                       f"attempts={event.attempts}\t{event.last_error}")
        click.echo(f"{len(events)} failed event(s)")
        return
    with transaction() as session:
        count = retry_failed(session, list(event_ids) or None)
    click.echo(f"{count} event(s) queued again")
    if count:
        schedule_drain("retry-failed")


@click.command("verify-ledger")
@with_appcontext
def verify_ledger():
    """Check that every member's balance plus pending points equals the sum of its ledger entries.

    Every shop at once, in a handful of grouped statements whatever the number of shops. If
    that fails (one shop's figures cannot be read: a sum past 64 bits, say), shop by shop,
    each in its own transaction, so that shop is reported and the others are still checked."""
    with transaction() as session:
        shops = dict(session.execute(select(Shop.id, Shop.domain).order_by(Shop.id)).all())
    try:
        with transaction() as session:
            found = _ledger_problems(session)
        by_shop = {shop_id: [line for owner, line in found if owner == shop_id] for shop_id in shops}
        unreadable = 0
    except Exception as error:  # one shop's data must not stop the audit of every other shop
        log.warning("verify-ledger: checking every shop at once failed (%s); checking shop by shop", describe(error))
        by_shop, unreadable = _ledger_problems_by_shop(shops)
    problems = 0
    for shop_id, lines in by_shop.items():
        for line in lines:
            click.echo(f"shop {shops[shop_id]} {line}")
        problems += len(lines)
    if problems or unreadable:
        raise click.ClickException(f"{problems} figure(s) disagree with their ledger or orders; "
                                   f"{unreadable} shop(s) could not be verified")
    click.echo("every balance plus pending points equals the sum of its entries, pending points their lots, "
               "and every tier figure its orders")


def _ledger_problems_by_shop(shops: dict[int, str]) -> tuple[dict[int, list[str]], int]:
    by_shop, unreadable = {}, 0
    for shop_id, domain in shops.items():
        try:
            with transaction() as session:
                by_shop[shop_id] = [line for _, line in _ledger_problems(session, shop_id)]
        except Exception as error:
            unreadable += 1
            click.echo(f"shop {domain}: could not be verified: {describe(error)}")
    return by_shop, unreadable


def _ledger_problems(session, shop_id: int | None = None) -> list[tuple[int, str]]:
    """(shop id, what disagrees) for one shop, or every shop."""
    lines = [(row["shop_id"], f"member {row['member_id']} tier figures for {row.get('day') or row.get('year')}: "
              f"stored {row['stored']} but its {'orders' if row['figure'] == 'day' else 'days'} give {row['expected']}")
             for row in verify_totals(session, shop_id)]
    lines += [(row["shop_id"], f"customer {row['customer_id']}: balance {row['balance']} + pending {row['pending']} "
               f"but entries sum to {row['total']}; lifetime {row['lifetime_earned']} vs {row['earned']}")
              for row in verify_balances(session, shop_id)]
    lines += [(row["shop_id"], f"customer {row['customer_id']}: pending {row['pending']} but pending lots hold "
               f"{row['held']}") for row in verify_pending(session, shop_id)]
    return lines


@click.command("tick")
@with_appcontext
@click.option("--now", "now_text", help="Run as if it were this moment (ISO 8601 with a zone); not in production.")
def tick(now_text: str | None):
    """Do every time-driven change now: expire codes (and, as they come, points and tiers)."""
    if now_text is not None and current_app.config["LOYALTY_ENV"] == "production":
        raise click.UsageError("--now is refused in production: a tick there runs at the real time")
    now = utcnow() if now_text is None else _moment(now_text)
    try:
        done = run_tick(now)
    except TickRunning:
        click.echo("another tick is running; nothing done")
        return
    click.echo(f"tick at {now.isoformat()}: " + ", ".join(f"{name} {count}" for name, count in done.items()))


def _moment(text: str, hint: str = "--now") -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter("must be an ISO 8601 time such as 2027-03-01T00:00:00Z", param_hint=hint) from None
    if moment.tzinfo is None:
        raise click.BadParameter("must say its time zone (Z or an offset)", param_hint=hint)
    return moment


@click.command("reconcile")
@with_appcontext
@click.option("--shop", help="Only this shop (a *.myshopify.com domain); default every installed shop.")
@click.option("--since", "since_text", help="Read orders updated since this ISO 8601 time (at most 60 days "
                                            "back) instead of since the shop's last reconciliation.")
def reconcile_command(shop: str | None, since_text: str | None):
    """Read back the orders updated since the last run and apply what the webhooks missed."""
    if shop is not None and not is_shop_domain(shop):
        raise click.BadParameter("must be a *.myshopify.com domain", param_hint="--shop")
    reports = reconcile_all(shop, None if since_text is None else _moment(since_text, "--since"))
    if shop is not None and not reports:
        raise click.ClickException(f"{shop} is not an installed shop")
    for report in reports:
        click.echo(report.line())
    if any(report.error for report in reports):
        raise click.ClickException("reconciliation failed for some shops; it runs again from the same point")


@click.command("dev-token")
@with_appcontext
@click.option("--shop", required=True, help="Shop domain, e.g. demo.myshopify.com")
@click.option("--lifetime", default=3600, show_default=True, help="Seconds the token stays valid.")
def dev_token(shop: str, lifetime: int):
    """Print a session token for local calls to /api (refused in production)."""
    if current_app.config["LOYALTY_ENV"] == "production":
        # A token signed with the live secret is as good as the admin's own: nobody mints one there.
        raise click.UsageError("dev-token is refused in production: session tokens come from the admin")
    if not is_shop_domain(shop):
        raise click.BadParameter("must be a *.myshopify.com domain", param_hint="--shop")
    click.echo(issue(shop, current_app.config["SHOPIFY_API_KEY"], current_app.config["SHOPIFY_API_SECRET"], lifetime))


@click.command("rotate-encryption-key")
@with_appcontext
def rotate_encryption_key_command():
    """Re-encrypt every stored token with LOYALTY_ENCRYPTION_KEY.

    Set the new key as LOYALTY_ENCRYPTION_KEY and the old one(s) in
    LOYALTY_ENCRYPTION_KEY_PREVIOUS (comma-separated), run this, then drop the old ones.
    """
    with transaction() as session:
        count = rotate_encryption_key(session)
        secrets = rotate_subscription_secrets(session)
    click.echo(f"re-encrypted the tokens of {count} shop(s) and the signing secrets of {secrets} event "
               "subscription(s) with the current key")


@click.command("api-reference")
@with_appcontext
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write it to this file (docs/api-reference.md) instead of standard output.")
def api_reference_command(output: Path | None):
    """Write the API reference (Markdown) from the routes' OpenAPI document."""
    from admin_ui.api_reference import markdown
    from admin_ui.openapi import document

    text = markdown(document(current_app._get_current_object()))
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text)
        click.echo(f"wrote {output}")


def register_commands(app) -> None:
    app.cli.add_command(db_group)
    from plugin.cli_imports import import_points

    for command in (worker, serve, tick, replay_command, retry_failed_command, verify_ledger, dev_token,
                    rotate_encryption_key_command, reconcile_command, import_points, api_reference_command):
        app.cli.add_command(command)
