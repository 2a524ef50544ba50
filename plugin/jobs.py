"""Every job, once: its name, its function, its queue, its retry, and what it does without Redis.

Anyone asks for a job by name with `plugin.queue.request(name, *args, job_id=...)`; the app
factory hands `JOBS` and `LEGACY` to the queue, which picks Redis or the job's in-process
behaviour (plugin/in_process.py). To add a job: write it as a plain function taking ids, add
its row here, and ask for it by that name. A job in Redis names its row, so the function may
move freely; only a rename of the row needs a line in `LEGACY`.

This module is wiring, like plugin/schedule.py: it imports the domain and the webhook side,
and only the app factory imports it.
"""
from rq import Retry

from plugin.in_process import RunNow, WakeThread
from plugin.loyalty.events.delivery import send_due_deliveries
from plugin.loyalty.events.dispatch import seconds_until_due
from plugin.loyalty.events.flow_sender import send_due_triggers
from plugin.loyalty.events.flow_triggers import seconds_until_due as flow_seconds_until_due
from plugin.loyalty.imports.jobs import apply_pending_imports
from plugin.loyalty.rewards.redemptions import issue_redemption_code
from plugin.loyalty.rewards.store_credit import grant_store_credit
from plugin.loyalty.rules.collection_names import refresh_collections
from plugin.queue import EVENTS, PLATFORM, WEBHOOKS, JobSpec
from plugin.schedule import run_periodic
from webhooks.jobs import drain_webhook_events
from webhooks.past_orders import run_past_orders

IMPORTS_IDLE_SECONDS = 3600.0  # the thread also wakes on its own, as a fallback to the periodic job

JOBS = (
    # The pending webhook events, in batches (webhooks/jobs.py). In-process: at once in the
    # process that stored them, one drain at a time (SQLite has a single writer anyway).
    JobSpec("drain-webhook-events", drain_webhook_events, WEBHOOKS, Retry(max=3, interval=[5, 30, 120]),
            result_ttl=60, in_process=RunNow(one_at_a_time=True)),
    # The member-event deliveries that are due (plugin/loyalty/events/delivery.py). In-process:
    # a sender thread per app, never the caller, so a receiver that hangs holds up no points.
    JobSpec("event-deliveries", send_due_deliveries, EVENTS, result_ttl=60,
            in_process=WakeThread(idle=seconds_until_due)),
    # The Shopify Flow trigger calls that are due (plugin/loyalty/events/flow_sender.py), on the
    # platform's queue. In-process: a sender thread per app, so a slow or throttled Admin API
    # never holds up the request, drain or Flow action that owed the call.
    JobSpec("flow-triggers", send_due_triggers, PLATFORM, result_ttl=60,
            in_process=WakeThread(idle=flow_seconds_until_due)),
    # One pending discount code, tried again when its retry is due (plugin/loyalty/rewards/
    # redemptions.py). In-process: nothing; the periodic "codes" job retries what is due.
    JobSpec("issue-code", issue_redemption_code, PLATFORM, Retry(max=3, interval=[30, 120, 600])),
    # One pending store credit, tried again when due (plugin/loyalty/rewards/store_credit.py):
    # it reads the account before any second send. In-process: the periodic "credits" job.
    JobSpec("grant-credit", grant_store_credit, PLATFORM, Retry(max=3, interval=[30, 120, 600])),
    # Every import being applied, batch by batch (plugin/loyalty/imports/jobs.py). In-process:
    # a thread per app, never the request that asked, which answers 202 at once; the
    # periodic "imports" job finishes what a stopped process left.
    JobSpec("apply-imports", apply_pending_imports, PLATFORM, result_ttl=60,
            in_process=WakeThread(idle=lambda: IMPORTS_IDLE_SECONDS)),
    # The store's past orders: the bulk operation, the preview, the apply (webhooks/past_orders.py).
    # In-process: a thread per app; the periodic "past-orders" job takes up what was left.
    JobSpec("past-orders", run_past_orders, PLATFORM, result_ttl=60,
            in_process=WakeThread(idle=lambda: IMPORTS_IDLE_SECONDS)),
    # The store's collections by title, for the rule editor (plugin/loyalty/rules/collection_names.py).
    # In-process: at once, in the request that found the copy missing or old.
    JobSpec("refresh-collections", refresh_collections, PLATFORM, Retry(max=2, interval=[10, 60]), result_ttl=60,
            in_process=RunNow()),
    # One periodic job, by its name in plugin/schedule.py's PERIODIC. In-process: in the
    # sweeper that found it due.
    JobSpec("periodic", run_periodic, PLATFORM, in_process=RunNow()),
)

# Dotted paths that RQ may still hold in a queue from before the registry, with the row each
# now runs (and the arguments the old function implied). Delete a line once no deployment
# can have such a job queued.
LEGACY = {
    "webhooks.jobs.drain_webhook_events": ("drain-webhook-events",),
    "plugin.jobs.drain_webhook_events": ("drain-webhook-events",),
    "plugin.loyalty.events.delivery.send_due_deliveries": ("event-deliveries",),
    "plugin.loyalty.event_delivery.send_due_deliveries": ("event-deliveries",),
    "plugin.loyalty.rewards.redemptions.issue_redemption_code": ("issue-code",),
    "plugin.loyalty.redemptions.issue_redemption_code": ("issue-code",),
    "plugin.jobs.issue_redemption_code": ("issue-code",),
    "plugin.schedule.run_periodic": ("periodic",),
    "plugin.jobs.maintain_redemptions": ("periodic", "codes"),
}
