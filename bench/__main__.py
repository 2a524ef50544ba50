"""`python -m bench`: run parts (a), (b), (c), the dashboard stats and the pgbench baseline, then print the summary.

Exit status 0 whenever the measurement completed (a MISS is a result, not a failure); 1 if
the bench itself broke. Everything it starts (gunicorn, scratch databases, the Redis db's
keys, temporary files) is stopped or removed on the way out, also after an error or a
SIGTERM/Ctrl-C.

`--parts` picks parts (a,b,c,storefront,events,stats,tick,imports,scaling,memory,pgbench; default all); part
"tick" is bench/tick.py, "storefront" bench/storefront.py, "imports" bench/imports.py (`--import-sizes`),
"scaling" bench/scaling.py, "memory" bench/memory.py. Part "stats" is bench/stats.py's
`run(database_url)`, imported only when it runs: if it is missing or fails, the bench says
so and goes on. `--sweep` measures part (a) under several gunicorn configurations instead
(how the default below was chosen), `--redeem-sweep` part (c); `--help` lists the knobs.
"""
import argparse
import os
import platform
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench import (
    cpu,
    drain,
    events,
    intake,
    memory,
    payloads,
    probe,
    redemptions,
    rules,
    scaling,
    services,
    storefront,
    tiers,
)
from bench.report import Figure, fmt_int, heading, summary, table

# Chosen with `--sweep` on the 2-core box; WHY_SERVER says why (printed in part (a)).
DEFAULT_SERVER = intake.ServerConfig(workers=3, worker_class="sync", threads=1)
WHY_SERVER = (
    "chosen with --sweep on this 2-core box: an intake request holds its worker for ~3 ms of CPU plus ~1 ms or "
    "more waiting on PostgreSQL (INSERT + commit fsync) and Redis, so ~1.5 sync workers per core keep both "
    "cores busy; -w 2 leaves them idle during those waits, -w 4..8 gained nothing and cost more CPU per "
    "request (context switches), and gthread (2-4 workers x 4-8 threads) doubled p99 on both endpoints "
    "(GIL hand-offs, keep-alive connections pinned to one worker). Sync closes the connection after each "
    "response, for bare and intake alike.")
SWEEP = [
    intake.ServerConfig(2, "sync"), intake.ServerConfig(3, "sync"), intake.ServerConfig(4, "sync"),
    intake.ServerConfig(6, "sync"), intake.ServerConfig(8, "sync"),
    intake.ServerConfig(2, "gthread", 4), intake.ServerConfig(2, "gthread", 8),
    intake.ServerConfig(3, "gthread", 4), intake.ServerConfig(4, "gthread", 4),
]

CORES = os.cpu_count() or 1
RATIO_TARGET = 0.5
P99_TARGET_MS = 50.0
ORDERS_TARGET = 1000.0
PARTS = ("a", "b", "c", "storefront", "events", "stats", "tick", "imports", "scaling", "memory", "pgbench")


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="measured seconds per endpoint (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up seconds per endpoint (default 2)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="alternate bare and intake this many times, seconds/rounds each (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, default=DEFAULT_SERVER.workers)
    parser.add_argument("--worker-class", default=DEFAULT_SERVER.worker_class, choices=("sync", "gthread"))
    parser.add_argument("--threads", type=int, default=DEFAULT_SERVER.threads, help="threads per gthread worker")
    # 10,000 orders keep the whole run under ~3 minutes at today's ~200 orders/s on a busy box.
    parser.add_argument("--orders", type=int, default=10_000, help="pending orders for part (b) (default 10,000)")
    parser.add_argument("--customers", type=int, default=1_000,
                        help="customers the orders come from (default 1,000)")
    parser.add_argument("--pgbench-seconds", type=int, default=5)
    parser.add_argument("--redeem-clients", type=int, default=16,
                        help="part (c): concurrent wrk connections redeeming (default 16)")
    parser.add_argument("--redeem-members", type=int, default=500, help="part (c): members redeeming (default 500)")
    parser.add_argument("--redeem-seconds", type=int, default=10, help="part (c): measured seconds (default 10)")
    parser.add_argument("--redeem-server", default="",
                        help="part (c): gunicorn config, e.g. gthread:2x8 or sync:16 (default "
                             f"{redemptions.DEFAULT_SERVER.worker_class}:{redemptions.DEFAULT_SERVER.workers}"
                             f"x{redemptions.DEFAULT_SERVER.threads})")
    parser.add_argument("--redeem-sweep", default="",
                        help="part (c) only, once per config, e.g. sync:4,sync:16,gthread:2x8 (5s runs)")
    parser.add_argument("--storefront-clients", type=int, default=32,
                        help="part storefront: concurrent shoppers (wrk connections, default 32)")
    parser.add_argument("--storefront-seconds", type=int, default=10,
                        help="part storefront: measured seconds per endpoint (default 10)")
    parser.add_argument("--events-rounds", type=int, default=2,
                        help="part events: rounds of (without, with), best of each taken (default 2)")
    parser.add_argument("--import-sizes", default="",
                        help="part imports: history rows:members, comma-separated (default 20000:2000,100000:10000; "
                             "the issue's size is 1000000:100000)")
    parser.add_argument("--memory-orders", type=int, default=100_000,
                        help="part memory: orders one worker drains, in slices of 10,000 (default 100,000)")
    parser.add_argument("--memory-customers", type=int, default=20_000,
                        help="part memory: customers those orders come from (default 20,000)")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help=f"which parts to run, comma-separated (default {','.join(PARTS)})")
    parser.add_argument("--sweep", action="store_true", help="only part (a), over several gunicorn configs")
    parser.add_argument("--sweep-configs", default="",
                        help="configs for --sweep, e.g. sync:2,sync:4,gthread:2x4 (default: a built-in list)")
    parser.add_argument("--sweep-repeat", type=int, default=1, help="times to go through the --sweep list")
    args = parser.parse_args(argv)
    unknown = [part for part in args.parts.split(",") if part.strip() and part.strip() not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}: choose from {', '.join(PARTS)}")
    return args


class Run:
    """Holds what must be cleaned up, whatever happens."""

    def __init__(self):
        self.scratch: services.ScratchDatabases | None = None
        self.server: intake.Gunicorn | None = None
        self.redis = None
        self.tmp: Path | None = None
        self.platform = None  # part (c)'s fake platform

    def stop_platform(self) -> None:
        if self.platform is not None:
            platform, self.platform = self.platform, None
            platform.stop()

    def stop_server(self) -> None:
        if self.server is not None:
            server, self.server = self.server, None
            server.stop()

    def close(self) -> None:
        steps = [self.stop_server, self.stop_platform,
                 lambda: self.scratch and self.scratch.drop_all(),
                 lambda: self.redis is not None and self.redis.flushdb(),
                 lambda: self.tmp and shutil.rmtree(self.tmp, ignore_errors=True)]
        for step in steps:
            try:
                step()
            except Exception as error:  # keep cleaning up
                print(f"cleanup step failed: {type(error).__name__}: {error}", file=sys.stderr)


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)


def main(argv=None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # create_app configures logging from it
    signal.signal(signal.SIGTERM, _terminate)
    run = Run()
    started = time.monotonic()
    try:
        figures = bench(args, run)
    except (KeyboardInterrupt, SystemExit) as stop:
        code = 130 if isinstance(stop, KeyboardInterrupt) else stop.code
        print("\nthe bench was interrupted; cleaning up", file=sys.stderr)
        return code if isinstance(code, int) else 1
    except Exception:
        traceback.print_exc()
        print("\nthe bench itself failed; no figures", file=sys.stderr)
        return 1
    finally:
        run.close()
    if figures:
        summary(figures)
    print(f"\n(bench ran {time.monotonic() - started:.0f}s; every process, database and Redis key it "
          f"made has been removed)")
    return 0


def bench(args, run: Run) -> list[Figure]:
    parts = {part.strip() for part in args.parts.split(",") if part.strip()}
    base = services.base_database_url()
    redis_url = services.redis_url()
    heading("setup")
    load = os.getloadavg()
    print(f"  host: {platform.node()}, {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f} (the box is shared: other work shows up in every figure)")
    wrk = services.ensure_wrk()
    run.scratch = services.ScratchDatabases(base)
    database = services.app_database(run.scratch)
    settings = services.server_settings(database)
    print(f"  PostgreSQL {settings.get('server_version')} at {base.host}:{base.port}: fsync={settings.get('fsync')}, "
          f"synchronous_commit={settings.get('synchronous_commit')}, shared_buffers={settings.get('shared_buffers')}"
          f" pages, max_connections={settings.get('max_connections')}")
    print(f"  scratch database: {run.scratch.created[0]} (migrated to head; dropped at the end)")
    run.redis = services.fresh_redis(redis_url)
    print(f"  Redis: {redis_url} (flushed now and at the end)")
    print(f"  wrk: {wrk}")
    run.tmp = intake.scratch_dir()
    secret = os.urandom(24).hex()
    env = {**os.environ, "DATABASE_URL": database, "REDIS_URL": redis_url, "LOYALTY_ENV": "development",
           "SHOPIFY_API_KEY": "bench-api-key", "SHOPIFY_API_SECRET": secret,
           "LOYALTY_ENCRYPTION_KEY": Fernet.generate_key().decode(), "LOYALTY_SWEEP_INTERVAL": "0",
           "LOG_LEVEL": "WARNING", "PYTHONPATH": str(intake.ROOT)}
    env.pop("SHOPIFY_API_SECRET_PREVIOUS", None)
    body = payloads.intake_body()
    script = intake.write_script(run.tmp, secret, body)

    if args.sweep:
        sweep(args, run, env, wrk, script)
        return []
    if args.redeem_sweep:
        for config in args.redeem_sweep.split(","):
            redemptions.part_c(args, run, env, wrk, config=redemptions.parse_config(config), seconds=5)
            run.stop_platform()
        return []

    figures = []
    if "a" in parts:
        figures += part_a(args, run, env, wrk, script, secret, body)
    if "b" in parts:
        figures += part_b(args, env)
    if "c" in parts:
        figures += redemptions.part_c(args, run, env, wrk)
        run.stop_platform()
    if "storefront" in parts:
        config = intake.ServerConfig(args.workers, args.worker_class,
                                     args.threads if args.worker_class == "gthread" else 1)
        figures += storefront.part_storefront(args, run, env, wrk, config)
    if "events" in parts:
        figures += events.part_events(args, run, env)
        run.stop_platform()
    if "stats" in parts:
        figures += part_stats(env)
    if "tick" in parts:
        figures += part_tick(env)
    if "imports" in parts:
        figures += part_imports(args, run, env)
    if "scaling" in parts:
        figures += scaling.part_scaling(env, _app, payloads.order_mix(args.orders, args.customers))
    if "memory" in parts:
        figures += memory.part_memory(args, env, _app)
    if "pgbench" in parts:
        figures += baseline(args, run)
    tps = next((f.raw for f in figures if f.name.startswith("baseline") and f.raw), None)
    if tps:
        for name, label in [("(a) intake req/s", "(a) intake req/s / pgbench tps"),
                            ("(b) orders processed/s (1 worker)", "(b) orders/s / pgbench tps")] + [
                (f.name, f"{f.name} / pgbench tps") for f in figures
                if f.name.startswith("imports postgresql") and f.name.endswith("apply rows/s")]:
            found = next((f for f in figures if f.name == name and f.raw), None)
            if found:
                figures.append(Figure(label, f"{found.raw / tps:.2f}", "", None))
    load = os.getloadavg()
    print(f"\n(load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})")
    return figures


def _app(env: dict, **overrides):
    from plugin import create_app

    keys = ("DATABASE_URL", "REDIS_URL", "SHOPIFY_API_KEY", "SHOPIFY_API_SECRET", "LOYALTY_ENCRYPTION_KEY")
    return create_app({**{key: env[key] for key in keys}, "SWEEP_INTERVAL_SECONDS": 0, **overrides})


def _queued_jobs(connection) -> tuple[int, str]:
    """Jobs waiting in every RQ queue of the bench's Redis db, and the queues' names."""
    from rq import Queue

    queues = Queue.all(connection=connection)
    return sum(queue.count for queue in queues), ", ".join(queue.name for queue in queues) or "none"


def _stored(env: dict, prefix: str) -> int:
    app = _app(env)
    try:
        with app.extensions["engine"].connect() as connection:
            return connection.execute(text("SELECT count(*) FROM webhook_events WHERE webhook_id LIKE :p"),
                                      {"p": prefix + "-%"}).scalar_one()
    finally:
        app.extensions["engine"].dispose()


def measure_server(args, run: Run, env: dict, wrk: str, script: Path, config: intake.ServerConfig,
                   seconds: int, warmup: int, rounds: int):
    """Warm-ups, then bare and intake alternately, `rounds` times each, `seconds` in all per endpoint.

    Alternating spreads whatever else the shared box is doing over both endpoints alike;
    the rounds of one endpoint are merged (their latency histograms exactly). Returns each
    endpoint's result with the CPU milliseconds it cost per request.
    """
    run.server = intake.Gunicorn(config, env, run.tmp)
    run.server.wait_ready()
    url = run.server.base_url
    database = make_url(env["DATABASE_URL"]).database
    common = dict(connections=args.connections, threads=args.wrk_threads)
    totals = {"bare": [None, {"app": 0.0, "postgres": 0.0}, 0.0], "intake": [None, {"app": 0.0, "postgres": 0.0}, 0.0]}
    box = {"busy": 0.0, "elapsed": 0.0, "ours": 0.0}

    def measured(path: str, label: str, length: int) -> None:
        before, wrk_before = cpu.snapshot(run.server.process.pid, database), cpu.children_seconds()
        system_before = cpu.system()
        result = intake.run_wrk(wrk, script, url + path, label, length, **common)
        system_after = cpu.system()
        after, wrk_after = cpu.snapshot(run.server.process.pid, database), cpu.children_seconds()
        box["busy"] += system_after[0] - system_before[0]
        box["elapsed"] += system_after[1] - system_before[1]
        box["ours"] += sum(after.values()) - sum(before.values()) + wrk_after - wrk_before
        total = totals[label]
        total[0] = result if total[0] is None else total[0] + result
        for key in total[1]:
            total[1][key] += after[key] - before[key]
        total[2] += wrk_after - wrk_before

    try:
        intake.run_wrk(wrk, script, url + "/webhooks", "warm-intake", warmup + 1, **common)
        intake.run_wrk(wrk, script, url + "/bench/bare", "warm-bare", warmup, **common)
        lengths = [seconds // rounds + (1 if i < seconds % rounds else 0) for i in range(rounds)]
        for length in lengths:
            measured("/bench/bare", "bare", length)
            measured("/webhooks", "intake", length)
    finally:
        run.stop_server()
    zero = {"app": 0.0, "postgres": 0.0}
    bare, hooks = ((result, cpu.per_request(zero, spent, wrk_spent, result.requests))
                   for result, spent, wrk_spent in (totals["bare"], totals["intake"]))
    others = max(box["busy"] - box["ours"], 0.0) / box["elapsed"] if box["elapsed"] else None
    return bare, hooks, others


def _cpu_text(cost, detail: bool = False) -> str:
    if cost is None:
        return "n/a"
    if not detail:
        return f"{cost.app_ms:.2f}+{cost.postgres_ms:.2f}+{cost.wrk_ms:.2f}"
    return (f"app {cost.app_ms:.2f} ms + postgres {cost.postgres_ms:.2f} ms + wrk {cost.wrk_ms:.2f} ms "
            f"= {cost.total_ms:.2f} ms of CPU ({CORES} cores give at most ~{CORES * 1000 / cost.total_ms:,.0f} req/s "
            f"at that cost)")


def _others_text(share) -> str:
    return "n/a" if share is None else f"{share * 100:.0f}%"


def _parse_config(text: str) -> intake.ServerConfig:
    kind, _, size = text.strip().partition(":")
    workers, _, threads = size.partition("x")
    return intake.ServerConfig(int(workers), kind, int(threads or 1))


def sweep(args, run: Run, env: dict, wrk: str, script: Path) -> None:
    seconds = min(args.seconds, 5)
    heading(f"(a) sweep: gunicorn configurations, {seconds}s per endpoint, {args.connections} connections")
    rows = [("config", "bare req/s", "bare p99", "intake req/s", "p50", "p99", "ratio", "errors",
             "bare CPU ms/req", "intake CPU ms/req", "others")]
    configs = [_parse_config(text) for text in args.sweep_configs.split(",") if text] or SWEEP
    for config in configs * args.sweep_repeat:
        (bare, bare_cpu), (hooks, hooks_cpu), others = measure_server(args, run, env, wrk, script, config,
                                                                      seconds, 1, 1)
        rows.append((config.describe(), fmt_int(bare.rps), f"{bare.p99_ms:.1f} ms", fmt_int(hooks.rps),
                     f"{hooks.p50_ms:.1f} ms", f"{hooks.p99_ms:.1f} ms", f"{hooks.rps / bare.rps:.2f}",
                     bare.error_count + hooks.error_count, _cpu_text(bare_cpu), _cpu_text(hooks_cpu),
                     _others_text(others)))
        print(f"  {config.describe()}: intake {fmt_int(hooks.rps)} req/s, p99 {hooks.p99_ms:.1f} ms; bare "
              f"{fmt_int(bare.rps)} req/s; others {_others_text(others)}", flush=True)
    table(rows)


def part_a(args, run: Run, env: dict, wrk: str, script: Path, secret: str, body: bytes) -> list[Figure]:
    config = intake.ServerConfig(args.workers, args.worker_class, args.threads if args.worker_class == "gthread" else 1)
    heading(f"(a) webhook intake over HTTP: gunicorn {config.describe()}, wrk -t {args.wrk_threads} "
            f"-c {args.connections}, {args.seconds}s per endpoint ({args.rounds} alternating rounds) after "
            f"{args.warmup}s warm-ups")
    print(f"  every intake request is a distinct signed orders/paid delivery ({len(body):,} B body, unique "
          f"X-Shopify-Webhook-Id);\n  the bare route /bench/bare (bench/wsgi.py) gets the same request and only "
          f"answers 200.")
    (bare, bare_cpu), (hooks, hooks_cpu), others = measure_server(args, run, env, wrk, script, config,
                                                                  args.seconds, args.warmup, args.rounds)
    stored = sum(_stored(env, prefix) for prefix in hooks.prefixes)
    rows = [("endpoint", "requests", "req/s", "p50", "p90", "p99", "max", "errors")]
    for result in (bare, hooks):
        rows.append((("POST /bench/bare" if result is bare else "POST /webhooks"), fmt_int(result.requests),
                     fmt_int(result.rps), f"{result.p50_ms:.2f} ms", f"{result.p90_ms:.2f} ms",
                     f"{result.p99_ms:.2f} ms", f"{result.max_ms:.1f} ms", result.errors or "none"))
    table(rows)
    print(f"  while measuring, processes outside the bench kept {_others_text(others)} of the box's CPU busy")
    print("  CPU per request (from /proc; app = gunicorn master+workers, postgres = this database's backends):")
    for name, cost in (("bare", bare_cpu), ("intake", hooks_cpu)):
        print(f"    {name:7s} {_cpu_text(cost, detail=True)}")
    ratio = hooks.rps / bare.rps if bare.rps else 0.0
    print(f"  ratio intake/bare: {ratio:.2f}")
    in_flight = stored - hooks.requests
    valid = 0 <= in_flight <= args.connections * args.rounds and not hooks.errors and not bare.errors
    print(f"  check: {stored:,} events stored for the {hooks.requests:,} intake requests wrk counted "
          f"({in_flight} still in flight when wrk stopped): "
          + ("every request was a new delivery, none a duplicate" if valid else "MISMATCH, figures suspect"))
    queued, queue_name = _queued_jobs(run.redis)
    app = _app(env)
    try:
        with app.extensions["engine"].connect() as connection:
            pending = connection.execute(
                text("SELECT count(*) FROM webhook_events WHERE status = 'pending'")).scalar_one()
    finally:
        app.extensions["engine"].dispose()
    print(f"  no RQ worker ran during (a): {pending:,} events stay pending, and the Redis drain flag let "
          f"{queued} drain job(s) into RQ ({queue_name}).")

    # What each request costs the services, counted in-process (explains the figures above).
    app = _app(env)
    try:
        cost = probe.intake_cost(app, secret, body)
    finally:
        app.extensions["engine"].dispose()
    print(f"  per intake request (in-process probe, {cost.requests} requests, answers {cost.statuses}): "
          f"{cost.statements:.2f} SQL statements, {cost.commits:.2f} commits, {cost.checkouts:.2f} pool checkouts"
          f"{' (each a pre-ping round trip)' if cost.pre_ping else ''}, {cost.redis_commands:.2f} Redis commands "
          f"{cost.redis_names}")
    chosen = config == DEFAULT_SERVER
    print(f"  gunicorn {config.describe()}: " + (WHY_SERVER if chosen else "set on the command line"))
    note = "" if valid else " (suspect: see check above)"
    return [
        Figure("(a) bare endpoint req/s", fmt_int(bare.rps), "", None),
        Figure("(a) intake req/s", fmt_int(hooks.rps) + note, "", None, raw=hooks.rps),
        Figure("(a) intake/bare ratio", f"{ratio:.2f}", f">= {RATIO_TARGET}", ratio >= RATIO_TARGET and valid),
        Figure("(a) intake p50 latency", f"{hooks.p50_ms:.1f} ms", "", None),
        Figure("(a) intake p99 latency", f"{hooks.p99_ms:.1f} ms", f"< {P99_TARGET_MS:.0f} ms",
               hooks.p99_ms < P99_TARGET_MS and valid),
    ]


def part_b(args, env: dict) -> list[Figure]:
    heading(f"(b) ledger processing by one worker process: {args.orders:,} pending orders/paid events, "
            f"{args.customers:,} customers")
    orders = payloads.order_mix(args.orders, args.customers)
    app = _app(env, REDIS_URL=None)
    try:
        engine = app.extensions["engine"]
        with engine.begin() as connection:  # the deliveries of (a) all name one order: not part of (b)
            connection.execute(text("TRUNCATE webhook_events RESTART IDENTITY"))
        seconds = drain.insert_pending(app, orders)
        drain.analyze(app)
        guests = sum(o.customer_id is None for o in orders)
        tests = sum(o.payload["test"] for o in orders)
        gifts = sum(any(line["gift_card"] for line in o.payload["line_items"]) for o in orders)
        size = sum(len(o.body) for o in orders) // max(len(orders), 1)
        print(f"  inserted {len(orders):,} pending events straight into webhook_events in {seconds:.1f}s "
              f"(payloads like tests/recordings/normal_order.jsonl, avg {size:,} B; {guests} guest, {tests} test, "
              f"{gifts} with a gift card)")
        database = make_url(env["DATABASE_URL"]).database
        system_before, backends_before = cpu.system(), cpu.snapshot(-1, database)["postgres"]
        result = drain.run_drain(app, orders)
        system_after, backends_after = cpu.system(), cpu.snapshot(-1, database)["postgres"]
    finally:
        app.extensions["engine"].dispose()
    ours = result.cpu_seconds + backends_after - backends_before
    elapsed = system_after[1] - system_before[1]
    others = max(system_after[0] - system_before[0] - ours, 0.0) / elapsed if elapsed else None
    print(f"  drain_due_events() in one process: {result.handled:,} events in {result.seconds:.2f}s = "
          f"{fmt_int(result.per_second)} orders/s")
    print(f"  SQL: {result.statements:,} statements = {result.statements_per_order:.2f} per order; "
          f"{result.commits} commits, {result.checkouts} pool checkouts")
    per_order = 1000 / result.handled if result.handled else 0.0
    print(f"  time per order: {result.seconds * per_order:.3f} ms, of which {result.sql_seconds * per_order:.3f} ms "
          f"inside cursor.execute (round trips, PostgreSQL) and {(result.seconds - result.sql_seconds) * per_order:.3f}"
          f" ms in Python; the worker used {result.cpu_seconds * per_order:.3f} ms of CPU per order, its PostgreSQL "
          f"backend {(backends_after - backends_before) * per_order:.3f} ms")
    print(f"  while draining, processes outside the bench kept {_others_text(others)} of the box's CPU busy")
    print("  statements by kind: " + ", ".join(f"{kind} {count:,}" for kind, count in result.statement_kinds.items()))
    print(f"  events by status: {result.status_counts}")
    total_ok = result.balance_total == result.expected_total and result.members == result.expected_members
    print(f"  ledger: {result.members:,} members (expected {result.expected_members:,}), {result.entries:,} entries, "
          f"balances sum to {result.balance_total:,} points (computed from the payloads: {result.expected_total:,})"
          f" -> {'agree' if total_ok else 'DISAGREE'}")
    print(f"  verify_balances: {len(result.mismatches)} mismatch(es)"
          + ("" if not result.mismatches else f", first: {result.mismatches[:3]}"))
    processed = result.status_counts.get("processed", 0) == len(orders) and result.handled == len(orders)
    consistent = not result.mismatches and total_ok and processed
    figures = [
        Figure("(b) orders processed/s (1 worker)", fmt_int(result.per_second), f">= {fmt_int(ORDERS_TARGET)}",
               result.per_second >= ORDERS_TARGET and processed, raw=result.per_second),
        Figure("(b) SQL statements per order", f"{result.statements_per_order:.2f}", "", None),
        Figure("(b) ledger consistent", f"{len(result.mismatches)} mismatches" + ("" if total_ok else ", totals differ")
               + ("" if processed else ", not all processed"), "0 mismatches", consistent),
    ]
    return figures + part_b_rules(env, orders, result)


def part_b_rules(env: dict, orders, plain) -> list[Figure]:
    """(b) again on the same orders, with ten active earning rules and a warm product cache."""
    heading(f"(b) with the program engine on: {len(rules.RULES)} earning rules, warm product cache, same orders")
    app = _app(env, REDIS_URL=None)
    try:
        rules.set_up(app)
        drain.insert_pending(app, orders)
        drain.analyze(app)
        result = drain.run_drain(app, orders)
        expected = rules.expected_points(app, orders)
    finally:
        app.extensions["engine"].dispose()
    ratio = result.per_second / plain.per_second if plain.per_second else 0.0
    print(f"  drain_due_events() in one process: {result.handled:,} events in {result.seconds:.2f}s = "
          f"{fmt_int(result.per_second)} orders/s, {ratio:.2f} of the no-rules run above")
    print(f"  SQL: {result.statements_per_order:.2f} statements per order (no rules: {plain.statements_per_order:.2f})")
    print("  statements by kind: " + ", ".join(f"{kind} {count:,}" for kind, count in result.statement_kinds.items()))
    agree = result.balance_total == expected and not result.mismatches
    print(f"  ledger: balances sum to {result.balance_total:,} points; the engine order by order gives {expected:,}"
          f" -> {'agree' if agree else 'DISAGREE'}; verify_balances: {len(result.mismatches)} mismatch(es)")
    processed = result.status_counts.get("processed", 0) == len(orders) and result.handled == len(orders)
    return [
        Figure("(b) with 10 rules: orders processed/s (1 worker)", fmt_int(result.per_second),
               f">= {fmt_int(ORDERS_TARGET)}", result.per_second >= ORDERS_TARGET and processed,
               raw=result.per_second),
        Figure("(b) with 10 rules / without", f"{ratio:.2f}", "", None),
        Figure("(b) with 10 rules: SQL statements per order", f"{result.statements_per_order:.2f}", "", None),
        Figure("(b) with 10 rules: ledger consistent", "agree" if agree else "DISAGREE", "agree", agree and processed),
    ] + part_b_tiers(env, orders, plain)


def part_b_tiers(env: dict, orders, plain) -> list[Figure]:
    """(b) once more on the same orders: the ten rules and three tiers (bench/tiers.py)."""
    heading(f"(b) with {len(tiers.TIERS)} tiers on top of the {len(rules.RULES)} earning rules, same orders")
    app = _app(env, REDIS_URL=None)
    try:
        tiers.set_up(app)
        drain.insert_pending(app, orders)
        drain.analyze(app)
        result = drain.run_drain(app, orders)
        figures, per_tier = tiers.check(app)
    finally:
        app.extensions["engine"].dispose()
    ratio = result.per_second / plain.per_second if plain.per_second else 0.0
    print(f"  drain_due_events() in one process: {result.handled:,} events in {result.seconds:.2f}s = "
          f"{fmt_int(result.per_second)} orders/s, {ratio:.2f} of the no-rules run above")
    print(f"  SQL: {result.statements_per_order:.2f} statements per order (no rules: {plain.statements_per_order:.2f})")
    print("  statements by kind: " + ", ".join(f"{kind} {count:,}" for kind, count in result.statement_kinds.items()))
    print(f"  the worker used {result.cpu_seconds * 1000 / max(result.handled, 1):.3f} ms of CPU per order "
          f"(no rules: {plain.cpu_seconds * 1000 / max(plain.handled, 1):.3f} ms): less swayed by a busy box "
          f"than orders/s")
    print(f"  members per tier: {per_tier}; verify_balances: {len(result.mismatches)} mismatch(es); tier figures: "
          f"{len(figures)} mismatch(es)")
    processed = result.status_counts.get("processed", 0) == len(orders) and result.handled == len(orders)
    consistent = not result.mismatches and not figures and processed
    return [
        Figure("(b) with rules + 3 tiers: orders processed/s (1 worker)", fmt_int(result.per_second),
               f">= {fmt_int(ORDERS_TARGET)}", result.per_second >= ORDERS_TARGET and processed,
               raw=result.per_second),
        Figure("(b) with rules + 3 tiers / without rules", f"{ratio:.2f}", "", None),
        Figure("(b) with rules + 3 tiers: ledger and tier figures consistent",
               "agree" if consistent else "DISAGREE", "agree", consistent),
    ]


def part_stats(env: dict) -> list[Figure]:
    """bench/stats.py, someone else's module: imported now, and never allowed to stop the bench."""
    heading("stats: the dashboard's GET /api/stats on a large shop (bench/stats.py)")
    try:
        from bench import stats
    except Exception as error:  # missing, or broken while it is being written
        print(f"  skipped: bench/stats.py could not be imported ({type(error).__name__}: {error}); going on")
        return [Figure("stats", "skipped (not importable)", "", None)]
    if not callable(getattr(stats, "run", None)):
        print("  skipped: bench/stats.py has no run(database_url); going on")
        return [Figure("stats", "skipped (no run())", "", None)]
    started = time.monotonic()
    try:
        result = stats.run(env["DATABASE_URL"])
    except Exception as error:
        print(f"  FAILED after {time.monotonic() - started:.0f}s: {type(error).__name__}: {str(error)[:500]}; "
              f"going on without its figures")
        return [Figure("stats", f"failed ({type(error).__name__})", "", None)]
    print(f"  (part stats took {time.monotonic() - started:.0f}s)")
    figures = []
    if isinstance(result, dict):
        entries = result.get("ledger_entries")
        for days in (30, 365):
            median = result.get(f"stats_{days}d_median_ms")
            if isinstance(median, (int, float)):
                label = f"stats GET /api/stats {days}d median" + (f" ({entries:,} entries)" if isinstance(
                    entries, int) else "")
                figures.append(Figure(label, f"{median:.1f} ms", "", None, raw=float(median)))
            median, ratio = result.get(f"liability_{days}d_median_ms"), result.get(f"liability_{days}d_ratio")
            if isinstance(median, (int, float)):
                figures.append(Figure(f"stats GET /api/reports/liability {days}d median (x the dashboard's)",
                                      f"{median:.1f} ms ({ratio} x)", "", None, raw=float(median)))
            median, ratio = result.get(f"performance_{days}d_median_ms"), result.get(f"performance_{days}d_ratio")
            if isinstance(median, (int, float)):
                figures.append(Figure(f"stats GET /api/reports/performance {days}d median (x the dashboard's)",
                                      f"{median:.1f} ms ({ratio} x)", "", None, raw=float(median)))
        median, ratio = result.get("cohorts_12m_median_ms"), result.get("cohorts_12m_ratio")
        if isinstance(median, (int, float)):
            figures.append(Figure("stats GET /api/reports/cohorts 12 months median (x the dashboard's 365d)",
                                  f"{median:.1f} ms ({ratio} x)", "", None, raw=float(median)))
    return figures or [Figure("stats", "ran (no figures recognised in its result)", "", None)]


def part_tick(env: dict) -> list[Figure]:
    """bench/tick.py: the lifecycle tick on 100,000 members and 1,000,000 entries."""
    from bench import tick

    heading("tick: expiry on a shop with 100,000 members and 1,000,000 entries (bench/tick.py)")
    result = tick.run(env["DATABASE_URL"])
    agrees = bool(result["ledger_agrees"]) and result["expired_members"] == result["members_due"]
    return [
        Figure("tick expiring (10% of members) seconds", f"{result['expiring_tick_seconds']:.2f}",
               f"< {tick.TARGET_EXPIRING_S:.0f}", result["expiring_tick_seconds"] < tick.TARGET_EXPIRING_S),
        Figure("tick expiring: SQL statements", str(result["expiring_tick_statements"]), "", None),
        Figure("tick idle seconds", f"{result['idle_tick_seconds']:.2f}", f"< {tick.TARGET_IDLE_S:.0f}",
               result["idle_tick_seconds"] < tick.TARGET_IDLE_S),
        Figure("tick idle: SQL statements", str(result["idle_tick_statements"]), "", None),
        Figure("tick: expired exactly the members due, ledger agrees", "yes" if agrees else "NO", "yes", agrees),
    ]


def part_imports(args, run: Run, env: dict) -> list[Figure]:
    """bench/imports.py: a points history previewed and applied, on PostgreSQL and SQLite."""
    from bench import imports

    sizes = imports.parse_sizes(args.import_sizes)
    heading("imports: a history file previewed and applied, " + ", ".join(
        f"{rows:,} rows / {members:,} members" for rows, members in sizes) + " (bench/imports.py)")
    results = imports.run(env["DATABASE_URL"], sizes, run.tmp)
    figures = []
    for r in results:
        label = f"imports {r['backend']} {r['rows']:,} rows"
        figures += [Figure(f"{label}: preview rows/s", fmt_int(r["rows"] / r["preview_s"]), "", None),
                    Figure(f"{label}: apply rows/s", fmt_int(r["rows"] / r["apply_s"]), "", None,
                           raw=r["rows"] / r["apply_s"]),
                    Figure(f"{label}: peak RSS MB", f"{r['peak_rss_mb']:.0f}", f"< {imports.RSS_TARGET_MB:.0f}",
                           r["peak_rss_mb"] < imports.RSS_TARGET_MB)]
    for backend in ("postgresql", "sqlite"):
        runs = sorted((r for r in results if r["backend"] == backend), key=lambda r: r["rows"])
        if len(runs) > 1:
            growth = runs[-1]["peak_rss_mb"] / runs[0]["peak_rss_mb"]
            figures.append(Figure(f"imports {backend}: peak RSS x{runs[-1]['rows'] / runs[0]['rows']:.0f} rows",
                                  f"x{growth:.2f}", "flat (< x1.5)", growth < 1.5))
    return figures


def baseline(args, run: Run) -> list[Figure]:
    heading(f"baseline: pgbench TPC-B on the same PostgreSQL ({args.pgbench_seconds}s)")
    tps, note = services.pgbench_tps(run.scratch, args.pgbench_seconds)
    print(f"  tps = {tps:,.0f} ({note})" if tps else f"  skipped: {note}")
    return [Figure("baseline pgbench TPC-B tps", fmt_int(tps) if tps else "n/a", "", None, raw=tps)]


if __name__ == "__main__":
    sys.exit(main())
