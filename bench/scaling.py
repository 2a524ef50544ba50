"""Part "scaling": the order batch with rules and tiers, drained by one worker process, then by two at once.

The same orders (bench/payloads.py), the ten earning rules and three tiers of bench/tiers.py, set
up afresh before each run. Each worker is a separate process (bench/memory.py's `child`: what an
RQ drain job runs), started and ready before the clock starts; the two drain the same pending
events together, taking batches with SKIP LOCKED. The figure is the two-worker rate over the
one-worker rate of this run (target: 1.7 on two cores). After the two-worker run the ledger
and the tier figures are checked (verify_balances, verify_totals) and every event is processed.
"""
import json
import time

from sqlalchemy import text

from bench import drain, tiers
from bench.memory import start_worker
from bench.payloads import SHOP
from bench.report import Figure, fmt_int, heading
from plugin.db import transaction
from plugin.loyalty.ledger.verification import verify_balances
from plugin.loyalty.shops import get_or_create_shop

TARGET = 1.7


def _run(env: dict, make_app, orders, workers: int) -> tuple[float, int, float]:
    """(seconds, events handled, worker CPU seconds) for `workers` processes draining `orders`."""
    app = make_app(env, REDIS_URL=None)
    try:
        with app.app_context(), transaction() as session:  # the shop, when no other part has made it
            get_or_create_shop(session, SHOP)
        tiers.set_up(app)
        drain.insert_pending(app, orders)
        drain.analyze(app)
    finally:
        app.extensions["engine"].dispose()
    processes = [start_worker(env) for _ in range(workers)]
    try:
        started = time.perf_counter()
        for process in processes:
            process.stdin.write("drain\n")
            process.stdin.flush()
        answers = [json.loads(process.stdout.readline()) for process in processes]
        seconds = time.perf_counter() - started
    finally:
        for process in processes:
            process.stdin.close()
            process.wait(timeout=60)
    return seconds, sum(a["handled"] for a in answers), sum(a["cpu_seconds"] for a in answers)


def part_scaling(env: dict, make_app, orders) -> list[Figure]:
    heading(f"scaling: {len(orders):,} orders with {len(tiers.rules.RULES)} rules and {len(tiers.TIERS)} tiers, "
            f"one worker process, then two")
    one = _run(env, make_app, orders, 1)
    two = _run(env, make_app, orders, 2)
    for label, (seconds, handled, cpu_seconds) in (("1 worker ", one), ("2 workers", two)):
        print(f"  {label}: {handled:,} events in {seconds:.2f}s = {fmt_int(handled / seconds)} orders/s; "
              f"{cpu_seconds * 1000 / max(handled, 1):.3f} ms of worker CPU per order")
    ratio = (two[1] / two[0]) / (one[1] / one[0]) if one[0] and two[0] else 0.0
    app = make_app(env, REDIS_URL=None)
    try:
        figures, per_tier = tiers.check(app)
        with app.app_context():
            with transaction() as session:
                mismatches = verify_balances(session)
                left = session.scalar(text("SELECT count(*) FROM webhook_events WHERE status <> 'processed'"))
    finally:
        app.extensions["engine"].dispose()
    consistent = not mismatches and not figures and not left and two[1] == len(orders)
    print(f"  two workers / one: {ratio:.2f}; members per tier {per_tier}; verify_balances {len(mismatches)} "
          f"mismatch(es), tier figures {len(figures)}, {left} event(s) not processed")
    return [
        Figure("scaling: 2 workers / 1 (rules + tiers)", f"{ratio:.2f}", f">= {TARGET}",
               ratio >= TARGET and consistent),
        Figure("scaling: ledger and tier figures consistent", "agree" if consistent else "DISAGREE", "agree",
               consistent),
    ]
