"""Part "events": ledger processing with an event subscription and the store sync on, against
the same run without them, and the Admin API calls the store sync makes.

Two fresh scratch databases get the same orders (bench/payloads.py): in "without", the
store-sync triggers that migration 0015 puts on `members` are dropped and the shop has no
subscription, as the app was before this feature; in "with", the shop has a subscription
for every event kind and `store_sync_enabled` on. Each is drained by one worker process
(bench/drain.py `run_drain`), alternating rounds so that load from other processes falls
on both. The target (>= 0.9) is read on orders per CPU second of the worker and its
PostgreSQL backend, since wall time on a shared box mostly measures the neighbours; the
wall-time ratio is printed beside it. Then `sync_store()` writes the "with" shop's members to the fake platform
(bench/fake_platform.py) and the calls it received are counted per 1,000 balance changes
(ledger entries); every member's last `loyalty.points` value is checked against its balance.
"""
import time

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bench import cpu, drain, payloads
from bench.fake_platform import FakePlatform
from bench.redemptions import session_token
from bench.report import Figure, fmt_int, heading
from plugin import migrate

RATIO_TARGET = 0.9
DROP_TRIGGERS = ("DROP TRIGGER members_store_sync_insert ON members; "
                 "DROP TRIGGER members_store_sync_update ON members")


def _app(env: dict, database: str, origin: str):
    from plugin import create_app

    keys = ("SHOPIFY_API_KEY", "SHOPIFY_API_SECRET", "LOYALTY_ENCRYPTION_KEY")
    return create_app({**{key: env[key] for key in keys}, "DATABASE_URL": database, "REDIS_URL": None,
                       "SWEEP_INTERVAL_SECONDS": 0, "SHOPIFY_ADMIN_ORIGIN": origin})


def _prepare(app, env: dict, with_feature: bool) -> None:
    """Install the shop through the real entry (token exchange at the fake platform)."""
    from plugin.db import transaction
    from plugin.loyalty.events.subscriptions import KIND_NAMES, create_subscription
    from plugin.models import Program, Shop

    answer = app.test_client().get("/", query_string={
        "shop": payloads.SHOP, "id_token": session_token(payloads.SHOP, env["SHOPIFY_API_KEY"],
                                                         env["SHOPIFY_API_SECRET"])})
    with app.app_context(), transaction() as session:
        shop = session.scalar(select(Shop).where(Shop.domain == payloads.SHOP))
        if shop is None or shop.access_token is None:
            raise RuntimeError(f"installing {payloads.SHOP} failed: GET / answered {answer.status_code}")
        program = session.get(Program, shop.id)
        program.store_sync_enabled = with_feature
        if with_feature:
            create_subscription(session, shop.id, {"url": "https://hooks.example.com/loyalty", "kinds": list(KIND_NAMES)})
        else:
            session.execute(text(DROP_TRIGGERS))


def _round(env: dict, run, orders, platform: FakePlatform, with_feature: bool, number: int):
    database = run.scratch.create(f"_events_{number}_{'with' if with_feature else 'without'}")
    migrate.upgrade(database)
    app = _app(env, database, platform.origin)
    try:
        _prepare(app, env, with_feature)
        drain.insert_pending(app, orders)
        drain.analyze(app)
        name = make_url(database).database
        backends = cpu.snapshot(-1, name)["postgres"]
        result = drain.run_drain(app, orders)
        # The worker's CPU and its PostgreSQL backend's (where the triggers run): what the
        # change costs per order, much steadier than wall time on a shared box.
        return app, result, result.cpu_seconds + cpu.snapshot(-1, name)["postgres"] - backends
    except BaseException:
        app.extensions["engine"].dispose()
        raise


def part_events(args, run, env: dict) -> list[Figure]:
    heading(f"(events) ledger processing with a subscription and the store sync on, {args.orders:,} orders, "
            f"{args.customers:,} customers, vs. the same without them")
    orders = payloads.order_mix(args.orders, args.customers)
    platform = FakePlatform(env["SHOPIFY_API_KEY"], env["SHOPIFY_API_SECRET"], delay=0.05).start()
    run.platform = platform
    rates, costs = {False: [], True: []}, {False: [], True: []}
    last_with = None
    try:
        for round_number in range(args.events_rounds):
            for with_feature in (False, True):
                app, result, cpu_seconds = _round(env, run, orders, platform, with_feature, round_number)
                label = "with" if with_feature else "without"
                print(f"  round {round_number + 1}, {label}: {result.handled:,} events in {result.seconds:.2f}s = "
                      f"{fmt_int(result.per_second)} orders/s, {result.statements_per_order:.2f} statements per order, "
                      f"{len(result.mismatches)} ledger mismatches; CPU {cpu_seconds * 1000 / result.handled:.3f} ms "
                      f"per order (worker + its PostgreSQL backend)")
                rates[with_feature].append(result.per_second)
                costs[with_feature].append(cpu_seconds / result.handled)
                if with_feature:
                    if last_with is not None:
                        last_with.extensions["engine"].dispose()
                    last_with = app
                else:
                    app.extensions["engine"].dispose()
        sync = _store_sync(last_with, platform)
    finally:
        if last_with is not None:
            last_with.extensions["engine"].dispose()
    without, with_ = max(rates[False]), max(rates[True])
    wall_ratio = with_ / without if without else 0.0
    ratio = min(costs[False]) / min(costs[True]) if min(costs[True]) else 0.0
    print(f"  best of {args.events_rounds}: {fmt_int(without)} orders/s without, {fmt_int(with_)} with -> {wall_ratio:.2f}"
          " (wall time, at the mercy of the box's other load)")
    print(f"  orders per CPU second (worker + backend), best of each: {fmt_int(1 / min(costs[False]))} without, "
          f"{fmt_int(1 / min(costs[True]))} with -> {ratio:.2f}")
    print("  (orders/paid alone records no member event on this branch, so the subscription is owed nothing here;"
          " what the run measures is the store-sync marking on every balance change)")
    return [
        Figure("(events) orders/s with / without (wall)", f"{wall_ratio:.2f}", "", None),
        Figure("(events) orders per CPU-s with / without", f"{ratio:.2f}", f">= {RATIO_TARGET}", ratio >= RATIO_TARGET),
        Figure("(events) Admin API calls per 1,000 balance changes", f"{sync['per_thousand']:.1f}", "", None),
        Figure("(events) store holds every balance", "yes" if sync["agree"] else "NO", "yes", sync["agree"]),
    ]


def _store_sync(app, platform: FakePlatform) -> dict:
    from plugin.db import transaction
    from plugin.loyalty.events.store_sync import sync_store
    from plugin.models import LedgerEntry, Member

    before = platform.snapshot()["calls"]
    started = time.perf_counter()
    with app.app_context():
        done = sync_store()
    seconds = time.perf_counter() - started
    calls = platform.snapshot()["calls"] - before
    with app.app_context(), transaction() as session:
        changes = session.scalar(select(func.count()).select_from(LedgerEntry))
        balances = dict(session.execute(select(Member.customer_id, Member.balance)).all())
    total = sum(calls.values())
    per_thousand = total * 1000 / changes if changes else 0.0
    written = platform.points_written()
    agree = all(written.get(customer) == balance for customer, balance in balances.items() if balance)
    print(f"  store sync: {done['members']:,} members written in {seconds:.1f}s with {total} Admin API calls "
          f"({dict(calls)}) for {changes:,} balance changes = {per_thousand:.1f} calls per 1,000 "
          f"(the fake platform answers each in 50 ms)")
    print(f"  the fake platform holds each member's balance as loyalty.points: {'yes' if agree else 'NO'}")
    return {"per_thousand": per_thousand, "agree": agree}
