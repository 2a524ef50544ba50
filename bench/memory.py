"""Part "memory": a worker's resident memory as it drains more and more orders.

A worker process (`python -m bench.memory`, the child) does what an RQ drain job does,
`drain_due_events()` in an app context, over and over in one process, and reports its RSS
(VmRSS of /proc/self/status) after each slice. The parent stores each slice of pending
orders/paid events (the same store's customers, new order ids: bench/payloads.py) before
asking the child to drain it, and deletes the processed events afterwards, as retention
would, so the database stays small. So the child's memory holds only what draining keeps:
a cache or a list that grows with orders or members shows as RSS that keeps rising.

The figure is RSS after all the orders over RSS after the first 10,000 (target: within
10 %). The ledger is then checked with `verify_balances` and against the points computed
from the payloads.
"""
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

from sqlalchemy import text

from bench import drain, payloads
from bench.report import Figure, fmt_int, heading

SLICE = 10_000
TARGET_GROWTH = 1.10


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@dataclass
class Checkpoint:
    orders: int
    rss_kib: int
    seconds: float
    cpu_seconds: float


def start_worker(env: dict) -> subprocess.Popen:
    """A worker process (`child` below), returned once it has built its app."""
    process = subprocess.Popen([sys.executable, "-m", "bench.memory"], env={**env, "REDIS_URL": ""}, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    json.loads(process.stdout.readline())  # {"ready": true}
    return process


def part_memory(args, env: dict, make_app) -> list[Figure]:
    total, customers = args.memory_orders, args.memory_customers
    heading(f"memory: one worker process drains {total:,} orders in slices of {SLICE:,} ({customers:,} customers)")
    app = make_app(env, REDIS_URL=None)
    engine = app.extensions["engine"]
    with engine.begin() as connection:  # the other parts' rows are not this part's
        connection.execute(text("TRUNCATE webhook_events, ledger_entries, orders, refunds, members, earning_rules, "
                                "products, redemptions, member_tier_totals, tiers RESTART IDENTITY CASCADE"))
    child = start_worker(env)
    checkpoints, expected, members = [], 0, set()
    try:
        for first in range(0, total, SLICE):
            orders = payloads.order_mix(min(SLICE, total - first), customers, first=first)
            expected += sum(order.expected_points for order in orders)
            members.update(order.customer_id for order in orders if order.customer_id is not None)
            drain.insert_pending(app, orders)
            del orders
            child.stdin.write("drain\n")
            child.stdin.flush()
            answer = json.loads(child.stdout.readline())
            checkpoints.append(Checkpoint(first + answer["handled"], answer["rss_kib"], answer["seconds"],
                                          answer["cpu_seconds"]))
            with engine.begin() as connection:
                connection.execute(text("DELETE FROM webhook_events WHERE status = 'processed'"))
            point = checkpoints[-1]
            print(f"  after {point.orders:>9,} orders: RSS {point.rss_kib / 1024:7.1f} MiB "
                  f"(slice: {answer['handled']:,} in {point.seconds:.1f}s, "
                  f"{point.cpu_seconds * 1000 / max(answer['handled'], 1):.3f} ms CPU per order)", flush=True)
    finally:
        child.stdin.close()
        child.wait(timeout=60)
    with app.app_context():
        from plugin.db import transaction
        from plugin.loyalty.ledger.verification import verify_balances

        with transaction() as session:
            mismatches = verify_balances(session)
            balance = session.execute(text("SELECT coalesce(sum(balance), 0), count(*) FROM members")).one()
            pending = session.scalar(text("SELECT count(*) FROM webhook_events WHERE status <> 'processed'"))
    engine.dispose()
    handled = checkpoints[-1].orders if checkpoints else 0
    growth = checkpoints[-1].rss_kib / checkpoints[0].rss_kib if checkpoints and checkpoints[0].rss_kib else 0.0
    agree = not mismatches and balance[0] == expected and balance[1] == len(members) and not pending
    print(f"  RSS after {fmt_int(handled)} orders / after the first {fmt_int(checkpoints[0].orders)}: {growth:.3f}")
    print(f"  ledger: {balance[1]:,} members (expected {len(members):,}), balances sum to {balance[0]:,} (from the "
          f"payloads: {expected:,}); verify_balances: {len(mismatches)} mismatch(es); {pending} event(s) not "
          f"processed -> {'agree' if agree else 'DISAGREE'}")
    return [
        Figure(f"memory: worker RSS after {fmt_int(handled)} orders / after {fmt_int(checkpoints[0].orders)}",
               f"{growth:.3f}", f"<= {TARGET_GROWTH:.2f}", growth <= TARGET_GROWTH and agree),
        Figure("memory: ledger consistent", "agree" if agree else "DISAGREE", "agree", agree),
    ]


def child() -> None:
    """The worker: says it is ready, then drains on each line read and answers with one JSON line."""
    from plugin import create_app
    from webhooks.processing import drain_due_events

    keys = ("DATABASE_URL", "SHOPIFY_API_KEY", "SHOPIFY_API_SECRET", "LOYALTY_ENCRYPTION_KEY")
    app = create_app({**{key: os.environ[key] for key in keys}, "REDIS_URL": None, "SWEEP_INTERVAL_SECONDS": 0})
    print(json.dumps(dict(ready=True, rss_kib=rss_kib())), flush=True)
    for _line in sys.stdin:
        started, cpu = time.perf_counter(), time.process_time()
        with app.app_context():
            handled = drain_due_events()
        print(json.dumps(dict(handled=handled, rss_kib=rss_kib(), seconds=time.perf_counter() - started,
                              cpu_seconds=time.process_time() - cpu)), flush=True)


if __name__ == "__main__":
    child()
