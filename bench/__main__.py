"""`python -m bench`: run parts (a) and (b) and the pgbench baseline, then print the summary.

Exit status 0 whenever the measurement completed (a MISS is a result, not a failure); 1 if
the bench itself broke. Everything it starts (gunicorn, scratch databases, the Redis db's
keys, temporary files) is stopped or removed on the way out, also after an error or a
SIGTERM/Ctrl-C.

`--sweep` measures part (a) under several gunicorn configurations instead (how the
default below was chosen); `--help` lists the knobs.
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

from bench import cpu, drain, intake, payloads, probe, services
from bench.report import Figure, fmt_int, heading, summary, table

# Chosen with `--sweep` on the 2-core box (see the README-ish note printed in part (a)).
DEFAULT_SERVER = intake.ServerConfig(workers=4, worker_class="sync", threads=1)
SWEEP = [
    intake.ServerConfig(2, "sync"), intake.ServerConfig(3, "sync"), intake.ServerConfig(4, "sync"),
    intake.ServerConfig(6, "sync"), intake.ServerConfig(8, "sync"),
    intake.ServerConfig(2, "gthread", 4), intake.ServerConfig(2, "gthread", 8),
    intake.ServerConfig(3, "gthread", 4), intake.ServerConfig(4, "gthread", 4),
]

RATIO_TARGET = 0.5
P99_TARGET_MS = 50.0
ORDERS_TARGET = 1000.0


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="measured seconds per wrk run (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up seconds per endpoint (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, default=DEFAULT_SERVER.workers)
    parser.add_argument("--worker-class", default=DEFAULT_SERVER.worker_class, choices=("sync", "gthread"))
    parser.add_argument("--threads", type=int, default=DEFAULT_SERVER.threads, help="threads per gthread worker")
    parser.add_argument("--orders", type=int, default=20_000, help="pending orders for part (b)")
    parser.add_argument("--customers", type=int, default=2_000, help="distinct customers for part (b)")
    parser.add_argument("--pgbench-seconds", type=int, default=5)
    parser.add_argument("--parts", default="a,b,pgbench", help="which parts to run (default a,b,pgbench)")
    parser.add_argument("--sweep", action="store_true", help="only part (a), over several gunicorn configs")
    return parser.parse_args(argv)


class Run:
    """Holds what must be cleaned up, whatever happens."""

    def __init__(self):
        self.scratch: services.ScratchDatabases | None = None
        self.server: intake.Gunicorn | None = None
        self.redis = None
        self.tmp: Path | None = None

    def stop_server(self) -> None:
        if self.server is not None:
            server, self.server = self.server, None
            server.stop()

    def close(self) -> None:
        steps = [self.stop_server,
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
    except BaseException as error:
        if isinstance(error, SystemExit) and error.code == 0:
            raise
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

    parts = {part.strip() for part in args.parts.split(",")}
    figures = []
    if "a" in parts:
        figures += part_a(args, run, env, wrk, script, secret, body)
    if "b" in parts:
        figures += part_b(args, env)
    if "pgbench" in parts:
        figures += baseline(args, run)
    return figures


def _app(env: dict, **overrides):
    from plugin import create_app

    keys = ("DATABASE_URL", "REDIS_URL", "SHOPIFY_API_KEY", "SHOPIFY_API_SECRET", "LOYALTY_ENCRYPTION_KEY")
    return create_app({**{key: env[key] for key in keys}, "SWEEP_INTERVAL_SECONDS": 0, **overrides})


def _stored(env: dict, prefix: str) -> int:
    app = _app(env)
    try:
        with app.extensions["engine"].connect() as connection:
            return connection.execute(text("SELECT count(*) FROM webhook_events WHERE webhook_id LIKE :p"),
                                      {"p": prefix + "-%"}).scalar_one()
    finally:
        app.extensions["engine"].dispose()


def measure_server(args, run: Run, env: dict, wrk: str, script: Path, config: intake.ServerConfig,
                   seconds: int, warmup: int):
    """Warm-ups, then bare and intake for `seconds` each; results with CPU ms per request."""
    run.server = intake.Gunicorn(config, env, run.tmp)
    run.server.wait_ready()
    url = run.server.base_url
    database = make_url(env["DATABASE_URL"]).database
    common = dict(connections=args.connections, threads=args.wrk_threads)

    def measured(path: str, label: str):
        before, wrk_before = cpu.snapshot(run.server.process.pid, database), cpu.children_seconds()
        result = intake.run_wrk(wrk, script, url + path, label, seconds, **common)
        after, wrk_after = cpu.snapshot(run.server.process.pid, database), cpu.children_seconds()
        return result, cpu.per_request(before, after, wrk_after - wrk_before, result.requests)

    try:
        intake.run_wrk(wrk, script, url + "/webhooks", "warm-intake", warmup + 1, **common)
        intake.run_wrk(wrk, script, url + "/bench/bare", "warm-bare", warmup, **common)
        bare = measured("/bench/bare", "bare")
        hooks = measured("/webhooks", "intake")
    finally:
        run.stop_server()
    return bare, hooks


def _cpu_text(cost, detail: bool = False) -> str:
    if cost is None:
        return "n/a"
    if not detail:
        return f"{cost.app_ms:.2f}+{cost.postgres_ms:.2f}+{cost.wrk_ms:.2f}"
    return (f"app {cost.app_ms:.2f} ms + postgres {cost.postgres_ms:.2f} ms + wrk {cost.wrk_ms:.2f} ms "
            f"= {cost.total_ms:.2f} ms of CPU (2 cores give at most ~{2000 / cost.total_ms:,.0f} req/s at that cost)")


def sweep(args, run: Run, env: dict, wrk: str, script: Path) -> None:
    seconds = min(args.seconds, 5)
    heading(f"(a) sweep: gunicorn configurations, {seconds}s per endpoint, {args.connections} connections")
    rows = [("config", "bare req/s", "bare p99", "intake req/s", "p50", "p99", "ratio", "errors",
             "bare CPU ms/req", "intake CPU ms/req")]
    for config in SWEEP:
        (bare, bare_cpu), (hooks, hooks_cpu) = measure_server(args, run, env, wrk, script, config, seconds, 1)
        rows.append((config.describe(), fmt_int(bare.rps), f"{bare.p99_ms:.1f} ms", fmt_int(hooks.rps),
                     f"{hooks.p50_ms:.1f} ms", f"{hooks.p99_ms:.1f} ms", f"{hooks.rps / bare.rps:.2f}",
                     bare.error_count + hooks.error_count, _cpu_text(bare_cpu), _cpu_text(hooks_cpu)))
        print(f"  {rows[-1]}", flush=True)
    table(rows)


def part_a(args, run: Run, env: dict, wrk: str, script: Path, secret: str, body: bytes) -> list[Figure]:
    config = intake.ServerConfig(args.workers, args.worker_class, args.threads if args.worker_class == "gthread" else 1)
    heading(f"(a) webhook intake over HTTP: gunicorn {config.describe()}, wrk -t {args.wrk_threads} "
            f"-c {args.connections}, {args.seconds}s per endpoint after {args.warmup}s warm-ups")
    print(f"  every intake request is a distinct signed orders/paid delivery ({len(body):,} B body, unique "
          f"X-Shopify-Webhook-Id);\n  the bare route /bench/bare (bench/wsgi.py) gets the same request and only "
          f"answers 200.")
    (bare, bare_cpu), (hooks, hooks_cpu) = measure_server(args, run, env, wrk, script, config, args.seconds,
                                                          args.warmup)
    stored = _stored(env, hooks.prefix)
    rows = [("endpoint", "requests", "req/s", "p50", "p90", "p99", "max", "errors")]
    for result in (bare, hooks):
        rows.append((("POST /bench/bare" if result is bare else "POST /webhooks"), fmt_int(result.requests),
                     fmt_int(result.rps), f"{result.p50_ms:.2f} ms", f"{result.p90_ms:.2f} ms",
                     f"{result.p99_ms:.2f} ms", f"{result.max_ms:.1f} ms", result.errors or "none"))
    table(rows)
    print("  CPU per request (from /proc; app = gunicorn master+workers, postgres = this database's backends):")
    for name, cost in (("bare", bare_cpu), ("intake", hooks_cpu)):
        print(f"    {name:7s} {_cpu_text(cost, detail=True)}")
    ratio = hooks.rps / bare.rps if bare.rps else 0.0
    print(f"  ratio intake/bare: {ratio:.2f}")
    in_flight = stored - hooks.requests
    valid = 0 <= in_flight <= args.connections and not hooks.errors and not bare.errors
    print(f"  check: {stored:,} events stored for the {hooks.requests:,} intake requests wrk counted "
          f"({in_flight} still in flight when wrk stopped): "
          + ("every request was a new delivery, none a duplicate" if valid else "MISMATCH, figures suspect"))
    queued = run.redis.llen("rq:queue:webhooks")
    app = _app(env)
    try:
        with app.extensions["engine"].connect() as connection:
            pending = connection.execute(text("SELECT count(*) FROM webhook_events WHERE status = 'pending'")).scalar_one()
    finally:
        app.extensions["engine"].dispose()
    print(f"  no RQ worker ran during (a): {pending:,} events stay pending, and the Redis drain flag let "
          f"{queued} drain job(s) into the 'webhooks' queue.")

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
    why = {("sync", 4): "sync workers x4: a request blocks its worker on the PostgreSQL commit (an fsync), "
                        "so 2 workers per core keep the CPUs busy while others wait; gthread adds GIL "
                        "hand-offs and thread switching for no gain on 2 cores (see --sweep)."}
    print(f"  gunicorn: {config.describe()} — " + why.get((config.worker_class, config.workers),
                                                         "set on the command line"))
    note = "" if valid else " (suspect: see check above)"
    return [
        Figure("(a) bare endpoint req/s", fmt_int(bare.rps), "", None),
        Figure("(a) intake req/s", fmt_int(hooks.rps) + note, "", None),
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
        print(f"  inserted {len(orders):,} pending events straight into webhook_events in {seconds:.1f}s "
              f"(payloads like tests/recordings/normal_order.jsonl, avg {sum(len(o.body) for o in orders) // len(orders):,} B;"
              f" {guests} guest, {tests} test, {gifts} with a gift card)")
        result = drain.run_drain(app, orders)
    finally:
        app.extensions["engine"].dispose()
    print(f"  drain_due_events() in one process: {result.handled:,} events in {result.seconds:.2f}s = "
          f"{fmt_int(result.per_second)} orders/s")
    print(f"  SQL: {result.statements:,} statements = {result.statements_per_order:.2f} per order; "
          f"{result.commits} commits, {result.checkouts} pool checkouts")
    per_order = 1000 / result.handled if result.handled else 0.0
    print(f"  time per order: {result.seconds * per_order:.3f} ms, of which {result.sql_seconds * per_order:.3f} ms "
          f"inside cursor.execute (round trips, PostgreSQL) and {(result.seconds - result.sql_seconds) * per_order:.3f}"
          f" ms in Python; the worker used {result.cpu_seconds * per_order:.3f} ms of CPU per order")
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
    return [
        Figure("(b) orders processed/s (1 worker)", fmt_int(result.per_second), f">= {fmt_int(ORDERS_TARGET)}",
               result.per_second >= ORDERS_TARGET and processed),
        Figure("(b) SQL statements per order", f"{result.statements_per_order:.2f}", "", None),
        Figure("(b) ledger consistent", f"{len(result.mismatches)} mismatches" + ("" if total_ok else ", totals differ")
               + ("" if processed else ", not all processed"), "0 mismatches", consistent),
    ]


def baseline(args, run: Run) -> list[Figure]:
    heading(f"baseline: pgbench TPC-B on the same PostgreSQL ({args.pgbench_seconds}s)")
    tps, note = services.pgbench_tps(run.scratch, args.pgbench_seconds)
    print(f"  tps = {tps:,.0f} ({note})" if tps else f"  skipped: {note}")
    return [Figure("baseline pgbench TPC-B tps", fmt_int(tps) if tps else "n/a", "", None)]


if __name__ == "__main__":
    sys.exit(main())
