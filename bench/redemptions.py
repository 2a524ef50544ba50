"""Part (c): redemptions per second against a platform that answers every Admin API call in 50 ms.

Setup, in the bench's scratch database:
- the fake platform (bench/fake_platform.py) starts on loopback and the app is configured
  with SHOPIFY_ADMIN_ORIGIN pointing at it, so all its platform calls go there;
- a shop is installed through the real entry: `GET /?shop=..&id_token=<session token>` with
  the app's test client, which exchanges the token at the fake platform's token endpoint;
- members are funded through the ledger's own functions (`ensure_member` + `adjust_points`,
  one transaction), so `verify_balances` holds by construction; the reward is the default
  catalog's "5 off your order" (`discountCodeBasicCreate`).

Measurement: gunicorn serves bench.wsgi (as in part (a), plus SHOPIFY_ADMIN_ORIGIN) and wrk
sends `POST /api/members/<customer_id>/redemptions` with a session token from C connections
(16 by default). Its Lua script rotates the customer ids so the requests in flight at any
moment are for distinct members (the figure is the platform wait, not row-lock contention
between two redemptions of one member), and reads each answer's redemption status.

wrk rather than a pool of Python threads: the load generator then costs ~0.05 ms of CPU per
request instead of ~1 ms (the box has 2 cores, shared by gunicorn, PostgreSQL and the fake
platform), it gives the same mergeable latency histogram as part (a), and the bench process
is left idle, so the fake platform's threads do not share a GIL with 16 client threads whose
waits would show up as platform latency.

Afterwards, with the server stopped (every in-flight request finished): redemptions by
status, points taken against the rewards' costs, `verify_balances` for the shop, and the
platform's own counts (calls by kind, tokens, duplicate codes). Before the HTTP run, an
in-process probe (Flask test client, one redemption at a time) counts what one redemption
costs: SQL statements, commits, pool checkouts, connections held at once, platform calls
and TCP connections, and its serial wall time.
"""
import json
import os
import statistics
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import jwt
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from bench import cpu, intake
from bench.fake_platform import FakePlatform
from bench.report import Figure, fmt_int, heading, table

SHOP = "bench-rewards-{n}.myshopify.com"  # its own shop: parts (b) and (c) never share members
PLATFORM_DELAY = 0.05
CUSTOMER_BASE = 9_100_000_000
REDEMPTIONS_PER_MEMBER = 60  # points for this many: far more than a run can use
PROBE_REDEMPTIONS = 40
CREATES = ("discountCodeBasicCreate", "discountCodeFreeShippingCreate")
CORES = os.cpu_count() or 1

# Chosen with --redeem-sweep on this 2-core box; WHY_SERVER says why (printed with the figures).
DEFAULT_SERVER = intake.ServerConfig(workers=2, worker_class="gthread", threads=8)
WHY_SERVER = (
    "chosen with --redeem-sweep on this 2-core box: a redemption holds its request through the 50 ms platform call "
    "and costs ~25-35 ms of CPU, so the server needs as many request slots as there are clients (16) but no more "
    "processes than cores: 2 gthread workers x 8 threads. Sync needs one process per slot: -w 4 (the README's "
    "deployment) lets only 4 redemptions wait on the platform at once, -w 8 gained nothing, -w 16 cost ~47 ms of "
    "app CPU per redemption against ~28 ms here (16 processes, 16 pools); gthread 2x4, 3x8, 4x4 and 2x16 were no "
    "better within this box's noise.")

LUA = r"""
wrk.method = "POST"
wrk.body = '{"reward_id": %(reward_id)d}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"

local ids = {%(ids)s}
local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
  thread:set("tid", #threads)
end

local position, step = 0, 1
local counts = {}
function init(args)
  step = tonumber(args[1])
  position = tid - 1
end

-- Thread t takes members t, t+T, t+2T ...: the connections in flight never share a member.
function request()
  local id = ids[(position %% #ids) + 1]
  position = position + step
  return wrk.format(nil, "/api/members/" .. id .. "/redemptions")
end

function response(status, headers, body)
  local key = tostring(status)
  if status == 201 then
    local found = string.match(body, '"status"%%s*:%%s*"(%%a+)"')
    key = key .. ":" .. (found or "?")
  end
  counts[key] = (counts[key] or 0) + 1
  -- thread:get only reads globals, so keep a flat copy of the tally
  local parts = {}
  for k, v in pairs(counts) do parts[#parts + 1] = k .. "=" .. v end
  tally = table.concat(parts, ",")
end

function done(summary, latency, requests)
""" + intake.LUA_RESULT + r"""  local all = {}
  for _, thread in ipairs(threads) do
    local t = thread:get("tally")
    if t and #t > 0 then all[#all + 1] = t end
  end
  io.write("BENCH_STATUSES " .. table.concat(all, ",") .. "\n")
""" + intake.LUA_HISTOGRAM + """end
"""


@dataclass(frozen=True)
class Setup:
    shop: str
    shop_id: int
    reward_id: int
    reward_name: str
    reward_kind: str
    cost: int
    customers: list
    points_each: int
    install_status: int
    seconds: float


@dataclass(frozen=True)
class Probe:
    redemptions: int
    statuses: dict
    statements: float
    commits: float
    checkouts: float
    max_checked_out: int
    locking_statements: dict
    platform_calls: float
    platform_connections: float
    median_ms: float


def session_token(shop: str, api_key: str, secret: str, lifetime: int = 60) -> str:
    """An HS256 session token as App Bridge makes it (tests/helpers.py `session_token`)."""
    now = int(time.time())
    claims = {"iss": f"https://{shop}/admin", "dest": f"https://{shop}", "aud": api_key, "sub": "42",
              "exp": now + lifetime, "nbf": now - 1, "iat": now - 1, "jti": str(uuid.uuid4()), "sid": "bench"}
    return jwt.encode(claims, secret, algorithm="HS256")


def build_app(env: dict, origin: str):
    from plugin import create_app

    keys = ("DATABASE_URL", "SHOPIFY_API_KEY", "SHOPIFY_API_SECRET", "LOYALTY_ENCRYPTION_KEY")
    # No Redis in-process: a redemption that succeeds never touches it.
    return create_app({**{key: env[key] for key in keys}, "REDIS_URL": None, "SWEEP_INTERVAL_SECONDS": 0,
                       "SHOPIFY_ADMIN_ORIGIN": origin})


def prepare(app, platform: FakePlatform, env: dict, shop_domain: str, members: int) -> Setup:
    """Install the shop through the real entry, pick the reward, fund the members."""
    from plugin.db import transaction
    from plugin.loyalty.ledger.bonuses import adjust_points
    from plugin.loyalty.members import ensure_member
    from plugin.loyalty.rewards.catalog import list_rewards
    from plugin.models import Shop

    started = time.perf_counter()
    key, secret = env["SHOPIFY_API_KEY"], env["SHOPIFY_API_SECRET"]
    answer = app.test_client().get("/", query_string={"shop": shop_domain,
                                                      "id_token": session_token(shop_domain, key, secret),
                                                      "host": "YmVuY2g"})
    with app.app_context(), transaction() as session:
        shop = session.scalar(select(Shop).where(Shop.domain == shop_domain))
        if shop is None or shop.access_token is None:
            raise RuntimeError(f"installing {shop_domain} failed: GET / answered {answer.status_code}, "
                               f"platform calls {dict(platform.calls)}, problems {dict(platform.problems)}")
        rewards = [r for r in list_rewards(session, shop.id) if r.active]
        reward = next((r for r in rewards if r.name == "5 off your order"), None) or \
            next((r for r in rewards if r.kind.value == "amount_off"), None) or rewards[0]
        points = reward.points_cost * REDEMPTIONS_PER_MEMBER
        customers = [CUSTOMER_BASE + index for index in range(members)]
        for customer in customers:
            owner = ensure_member(session, shop.id, customer, f"member{customer}@example.com")
            adjust_points(session, shop.id, owner, points, "bench: starting points")
        setup = Setup(shop_domain, shop.id, reward.id, reward.name, reward.kind.value, reward.points_cost, customers, points,
                      answer.status_code, 0.0)
    return Setup(**{**setup.__dict__, "seconds": time.perf_counter() - started})


def probe(app, platform: FakePlatform, env: dict, setup: Setup, count: int = PROBE_REDEMPTIONS) -> Probe:
    """Redemptions one at a time through the test client, with what each costs counted."""
    engine = app.extensions["engine"]
    counts = {"statements": 0, "commits": 0, "checkouts": 0, "out": 0, "max_out": 0}
    locking: dict[str, int] = {}

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        counts["statements"] += 1
        if "FOR UPDATE" in statement.upper():
            from bench.drain import statement_kind

            kind = statement_kind(statement) + " FOR UPDATE"
            locking[kind] = locking.get(kind, 0) + 1

    def on_commit(_conn):
        counts["commits"] += 1

    def on_checkout(*_args):
        counts["checkouts"] += 1
        counts["out"] += 1
        counts["max_out"] = max(counts["max_out"], counts["out"])

    def on_checkin(*_args):
        counts["out"] -= 1

    listeners = [(engine, "before_cursor_execute", on_execute), (engine, "commit", on_commit),
                 (engine.pool, "checkout", on_checkout), (engine.pool, "checkin", on_checkin)]
    client = app.test_client()
    key, secret = env["SHOPIFY_API_KEY"], env["SHOPIFY_API_SECRET"]
    statuses: dict[str, int] = {}
    times = []
    # One unmeasured redemption first: connections, statement caches.
    client.post(f"/api/members/{setup.customers[-1]}/redemptions", json={"reward_id": setup.reward_id},
                headers={"Authorization": f"Bearer {session_token(setup.shop, key, secret)}"})
    before = platform.snapshot()
    for target, name, function in listeners:
        event.listen(target, name, function)
    try:
        for customer in setup.customers[:count]:
            headers = {"Authorization": f"Bearer {session_token(setup.shop, key, secret)}"}
            started = time.perf_counter()
            answer = client.post(f"/api/members/{customer}/redemptions", json={"reward_id": setup.reward_id},
                                 headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            body = answer.get_json(silent=True) or {}
            label = f"{answer.status_code}:{body.get('status', '?')}"
            statuses[label] = statuses.get(label, 0) + 1
    finally:
        for target, name, function in listeners:
            event.remove(target, name, function)
    after = platform.snapshot()
    calls = sum((after["calls"] - before["calls"]).values())
    return Probe(count, statuses, counts["statements"] / count, counts["commits"] / count,
                 counts["checkouts"] / count, counts["max_out"],
                 {kind: round(n / count, 2) for kind, n in locking.items()}, calls / count,
                 (after["connections"] - before["connections"]) / count, statistics.median(times))


def write_script(directory: Path, token: str, reward_id: int, customers: list) -> Path:
    path = directory / "redemptions.lua"
    path.write_text(LUA % {"token": token, "reward_id": reward_id, "ids": ",".join(str(c) for c in customers)})
    return path


def run_wrk(wrk: str, script: Path, url: str, label: str, seconds: int, connections: int,
            threads: int) -> tuple[intake.WrkResult, dict]:
    command = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
               "-s", str(script), url, "--", str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    lines = {line.split(" ", 1)[0]: line.split(" ", 1)[1] if " " in line else ""
             for line in done.stdout.splitlines() if line.startswith("BENCH_")}
    if done.returncode != 0 or not {"BENCH_RESULT", "BENCH_HIST", "BENCH_STATUSES"} <= set(lines):
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    data = json.loads(lines["BENCH_RESULT"])
    errors = {key: data[key] for key in ("connect", "read", "write", "status", "timeout") if data[key]}
    histogram = {}
    for pair in filter(None, lines["BENCH_HIST"].strip().split(",")):
        micros, count = pair.split(":", 1)
        histogram[int(micros)] = histogram.get(int(micros), 0) + int(float(count))
    statuses: dict[str, int] = {}
    for pair in filter(None, lines["BENCH_STATUSES"].strip().split(",")):
        name, count = pair.rsplit("=", 1)
        statuses[name] = statuses.get(name, 0) + int(count)
    result = intake.WrkResult(label, (label,), data["requests"], data["duration_us"] / 1e6, errors, histogram)
    return result, statuses


@dataclass(frozen=True)
class Ledger:
    by_status: dict  # status -> (count, points)
    entries: dict  # kind -> (count, sum of deltas)
    members: int
    balance_total: int
    mismatches: list


def ledger_state(app, shop_id: int) -> Ledger:
    from plugin.db import transaction
    from plugin.loyalty.ledger.verification import verify_balances
    from plugin.models import LedgerEntry, Member, Redemption

    with app.app_context(), transaction() as session:
        by_status = {(s.value if hasattr(s, "value") else s): (n, int(p or 0)) for s, n, p in session.execute(
            select(Redemption.status, func.count(), func.sum(Redemption.points))
            .where(Redemption.shop_id == shop_id).group_by(Redemption.status)).all()}
        entries = {(k.value if hasattr(k, "value") else k): (n, int(d or 0)) for k, n, d in session.execute(
            select(LedgerEntry.kind, func.count(), func.sum(LedgerEntry.delta))
            .where(LedgerEntry.shop_id == shop_id).group_by(LedgerEntry.kind)).all()}
        members, total = session.execute(select(func.count(), func.coalesce(func.sum(Member.balance), 0))
                                         .where(Member.shop_id == shop_id)).one()
        mismatches = [row for row in verify_balances(session) if row.get("shop_id") == shop_id]
    return Ledger(by_status, entries, members, int(total), mismatches)


class ActivitySampler:
    """Samples pg_stat_activity for the bench database every `interval` seconds, in a thread.

    The mean number of this database's backends in each state says where redemptions wait
    inside PostgreSQL: `idle in transaction` is a transaction held open while the app does
    something else (here: the platform call made with the redemption row locked), `Lock`
    waits are row-lock queues, `IO`/`LWLock` waits are mostly WAL flushes at commit.
    """

    QUERY = ("SELECT state, coalesce(wait_event_type, ''), coalesce(wait_event, ''), left(query, 300) "
             "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'")

    def __init__(self, url: str, interval: float = 0.1):
        self.url, self.interval = url, interval
        self.samples = 0
        self.totals: dict[str, float] = {}
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.error: str | None = None

    def __enter__(self) -> "ActivitySampler":
        self.thread = threading.Thread(target=self._run, name="pg-activity", daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg

        parsed = make_url(self.url)
        try:
            with psycopg.connect(host=parsed.host or "127.0.0.1", port=parsed.port or 5432,
                                 user=parsed.username or "postgres", password=parsed.password,
                                 dbname="postgres", autocommit=True) as connection:
                while not self.stop_event.wait(self.interval):
                    rows = connection.execute(self.QUERY, (parsed.database,)).fetchall()
                    self.samples += 1
                    for state, wait_type, wait, query in rows:
                        self._add(state or "?", wait_type, wait, query or "")
        except Exception as error:  # the figures are context; never let them break the run
            self.error = f"{type(error).__name__}: {error}"

    def _add(self, state: str, wait_type: str, wait: str, query: str) -> None:
        from bench.drain import statement_kind

        kind = statement_kind(query) + (" FOR UPDATE" if "FOR UPDATE" in query.upper() else "")
        if state == "active" and wait_type and wait_type != "Client":
            key = f"waiting {wait_type}:{wait} in {kind}"
        elif state == "idle in transaction":
            key = f"idle in transaction after {kind}"
        else:
            key = state
        self.totals[key] = self.totals.get(key, 0) + 1

    def means(self) -> dict[str, float]:
        if not self.samples:
            return {}
        return {key: round(total / self.samples, 2) for key, total in
                sorted(self.totals.items(), key=lambda kv: -kv[1]) if total / self.samples >= 0.01}

    def summary(self) -> str:
        """The means grouped: open-but-idle transactions, row-lock waits, WAL waits, running."""
        means = self.means()
        if not means:
            return f"n/a ({self.error or 'no samples'})"
        groups = {"idle in transaction": {}, "waiting on a row lock": {}, "waiting on WAL/IO": {}, "other waits": {}}
        running = idle = 0.0
        for key, value in means.items():
            if key.startswith("idle in transaction after "):
                groups["idle in transaction"][key.removeprefix("idle in transaction after ")] = value
            elif key.startswith("waiting Lock:"):
                groups["waiting on a row lock"][key.removeprefix("waiting ")] = value
            elif key.startswith(("waiting IO:", "waiting LWLock:WAL")):
                groups["waiting on WAL/IO"][key.removeprefix("waiting ")] = value
            elif key.startswith("waiting "):
                groups["other waits"][key.removeprefix("waiting ")] = value
            elif key == "active":
                running += value
            elif key == "idle":
                idle += value
        parts = []
        for name, found in groups.items():
            if found:
                top = ", ".join(f"{key} {value:.2f}" for key, value in list(found.items())[:4])
                parts.append(f"{sum(found.values()):.1f} {name} ({top}{', ...' if len(found) > 4 else ''})")
        parts.append(f"{running:.1f} running a statement, {idle:.1f} idle in the pools")
        return "; ".join(parts)


def parse_config(text: str) -> intake.ServerConfig:
    kind, _, size = text.strip().partition(":")
    workers, _, threads = size.partition("x")
    return intake.ServerConfig(int(workers), kind, int(threads or 1))


def slots(config: intake.ServerConfig) -> int:
    """Requests the server works on at once: one per sync worker, `threads` per gthread worker."""
    return config.workers * (config.threads if config.worker_class == "gthread" else 1)


def measure(args, run, env: dict, wrk: str, script: Path, config: intake.ServerConfig, platform: FakePlatform,
            seconds: int, warmup: int):
    """Warm-up, then one measured wrk run; returns the result, statuses, CPU and platform deltas."""
    server_env = {**env, "SHOPIFY_ADMIN_ORIGIN": platform.origin}
    run.server = intake.Gunicorn(config, server_env, run.tmp)
    try:
        run.server.wait_ready()
        url = run.server.base_url
        database = make_url(env["DATABASE_URL"]).database
        common = dict(connections=args.redeem_clients, threads=min(args.wrk_threads, args.redeem_clients))
        if warmup:
            run_wrk(wrk, script, url, "warm-redeem", warmup, **common)
        platform.reset_max_in_flight()
        before, platform_before = cpu.snapshot(run.server.process.pid, database), platform.snapshot()
        wrk_before, own_before, system_before = cpu.children_seconds(), time.process_time(), cpu.system()
        with ActivitySampler(env["DATABASE_URL"]) as activity:
            result, statuses = run_wrk(wrk, script, url, "redeem", seconds, **common)
        system_after, own_after, wrk_after = cpu.system(), time.process_time(), cpu.children_seconds()
        after, platform_after = cpu.snapshot(run.server.process.pid, database), platform.snapshot()
    finally:
        run.stop_server()  # graceful: requests still in flight finish before the counts below
    spent = {"app": after["app"] - before["app"], "postgres": after["postgres"] - before["postgres"],
             "platform": own_after - own_before, "wrk": wrk_after - wrk_before}
    ours = sum(spent.values())
    elapsed = system_after[1] - system_before[1]
    others = max(system_after[0] - system_before[0] - ours, 0.0) / elapsed if elapsed else None
    window = {"calls": platform_after["calls"] - platform_before["calls"],
              "busy_seconds": platform_after["busy_seconds"] - platform_before["busy_seconds"],
              "connections": platform_after["connections"] - platform_before["connections"],
              "max_in_flight": platform_after["max_in_flight"], "activity": activity.summary()}
    return result, statuses, spent, others, window


def part_c(args, run, env: dict, wrk: str, config: intake.ServerConfig | None = None,
           seconds: int | None = None) -> list[Figure]:
    config = config or (parse_config(args.redeem_server) if args.redeem_server else DEFAULT_SERVER)
    seconds = seconds or args.redeem_seconds
    shop_domain = SHOP.format(n=uuid.uuid4().hex[:8])
    clients = args.redeem_clients
    heading(f"(c) redemptions over HTTP against a fake platform answering each Admin API call in "
            f"{PLATFORM_DELAY * 1000:.0f} ms: gunicorn {config.describe()}, wrk -c {clients}, "
            f"{seconds}s after a {args.warmup}s warm-up")
    platform = FakePlatform(env["SHOPIFY_API_KEY"], env["SHOPIFY_API_SECRET"], PLATFORM_DELAY).start()
    run.platform = platform
    app = build_app(env, platform.origin)
    try:
        setup = prepare(app, platform, env, shop_domain, args.redeem_members)
        print(f"  fake platform on 127.0.0.1:{platform.port} (SHOPIFY_ADMIN_ORIGIN={platform.origin}); shop {shop_domain} "
              f"installed through GET /?shop=..&id_token=.. (answered {setup.install_status}; token exchanges at "
              f"the platform: {platform.calls['token_exchange']})")
        print(f"  {len(setup.customers):,} members funded with {setup.points_each:,} points each through "
              f"ensure_member + adjust_points; reward \"{setup.reward_name}\" ({setup.reward_kind}, "
              f"{setup.cost} points); setup took {setup.seconds:.1f}s")
        cost = probe(app, platform, env, setup)
    finally:
        app.extensions["engine"].dispose()
    print(f"  per redemption (in-process probe, {cost.redemptions} one at a time, answers {cost.statuses}): "
          f"{cost.statements:.1f} SQL statements, {cost.commits:.1f} commits, {cost.checkouts:.1f} pool checkouts "
          f"(up to {cost.max_checked_out} connections held at once), row locks {cost.locking_statements}; "
          f"{cost.platform_calls:.2f} platform calls over {cost.platform_connections:.2f} new TCP connections; "
          f"median {cost.median_ms:.1f} ms each, {PLATFORM_DELAY * 1000:.0f} of them the platform's")

    token = session_token(shop_domain, env["SHOPIFY_API_KEY"], env["SHOPIFY_API_SECRET"],
                          lifetime=seconds + args.warmup + 600)
    # The probe's members go last in the rotation, so the load starts on untouched members.
    order = setup.customers[PROBE_REDEMPTIONS:] + setup.customers[:PROBE_REDEMPTIONS]
    script = write_script(run.tmp, token, setup.reward_id, order)
    result, statuses, spent, others, window = measure(args, run, env, wrk, script, config, platform,
                                                      seconds, args.warmup)

    ledger = ledger_state(app, setup.shop_id)
    app.extensions["engine"].dispose()
    totals = platform.snapshot()
    creates = sum(totals["calls"][name] for name in CREATES)
    redemptions = sum(count for count, _ in ledger.by_status.values())
    issued, issued_points = ledger.by_status.get("issued", (0, 0))
    spent_entries = ledger.entries.get("redemption", (0, 0))
    returned = ledger.entries.get("redemption_return", (0, 0))
    funded = ledger.entries.get("adjustment", (0, 0))
    points_taken = funded[1] - ledger.balance_total
    per_issued = creates / issued if issued else float("nan")

    ok_answers = statuses.get("201:issued", 0)
    rps = ok_answers / result.seconds if result.seconds else 0.0
    ideal_clients = clients / PLATFORM_DELAY
    concurrent = min(clients, slots(config))
    ideal = concurrent / PLATFORM_DELAY
    serial_bound = concurrent * 1000 / cost.median_ms if cost.median_ms else 0.0
    mean_at_platform = window["busy_seconds"] / result.seconds if result.seconds else 0.0
    per_request = {key: value * 1000 / result.requests for key, value in spent.items()} if result.requests else {}
    cpu_total = sum(per_request.values())

    rows = [("endpoint", "requests", "redemptions/s", "p50", "p90", "p99", "max", "errors")]
    rows.append(("POST /api/members/<id>/redemptions", fmt_int(result.requests), f"{rps:,.1f}",
                 f"{result.p50_ms:.1f} ms", f"{result.p90_ms:.1f} ms", f"{result.p99_ms:.1f} ms",
                 f"{result.max_ms:.1f} ms", result.errors or "none"))
    table(rows)
    print(f"  answers (HTTP status:redemption status): {dict(sorted(statuses.items()))}")
    print(f"  ideal: {clients} clients / {PLATFORM_DELAY * 1000:.0f} ms = {ideal_clients:,.0f}/s"
          + (f"; the server works on {slots(config)} requests at once, so at most {ideal:,.0f}/s"
             if slots(config) < clients else "")
          + f" -> achieved/ideal = {rps / ideal_clients:.2f}")
    print(f"  with this app's own serial time per redemption ({cost.median_ms:.1f} ms, probe above) {concurrent} at "
          f"once could give at most {serial_bound:,.0f}/s -> achieved/that = "
          f"{rps / serial_bound if serial_bound else 0:.2f}")
    ceiling = CORES * 1000 / cpu_total if cpu_total else 0.0
    if per_request:
        print(f"  CPU per redemption: app {per_request['app']:.2f} ms + postgres {per_request['postgres']:.2f} ms + "
              f"bench process (fake platform) {per_request['platform']:.2f} ms + wrk {per_request['wrk']:.2f} ms = "
              f"{cpu_total:.2f} ms: {CORES} cores give at most ~{ceiling:,.0f}/s at that cost -> achieved/that = "
              f"{rps / ceiling:.2f}; processes outside the bench kept "
              f"{'n/a' if others is None else f'{others * 100:.0f}%'} of the box's CPU busy")
    print(f"  at the platform during the run: {sum(window['calls'].values()):,} calls, on average "
          f"{mean_at_platform:.1f} in progress at once (at most {window['max_in_flight']}; wrk kept {clients} "
          f"redemptions in flight), over {window['connections']:,} new TCP connections")
    print(f"  PostgreSQL backends of this database, mean over the run (pg_stat_activity every 0.1 s): "
          f"{window['activity']}")
    print(f"  gunicorn {config.describe()}: " + (WHY_SERVER if config == DEFAULT_SERVER else "set on the command line"))

    # Checks over everything the shop saw (probe, warm-up and measured run), server stopped.
    by_status = {status: count for status, (count, _) in ledger.by_status.items()}
    all_issued = issued == redemptions and redemptions > 0 and set(statuses) <= {"201:issued"}
    points_ok = (issued_points == issued * setup.cost == -spent_entries[1] == points_taken
                 and spent_entries[0] == redemptions and returned == (0, 0))
    platform_ok = (totals["calls"]["token_exchange"] == 1 and totals["calls"]["refresh"] == 0
                   and not totals["problems"] and len(platform.codes) == creates)
    print(f"  redemptions in the database: {redemptions:,} {by_status}; Admin API calls: "
          f"{dict(totals['calls'])} -> {per_issued:.2f} code-creating calls per issued redemption")
    print(f"  points: {issued:,} issued x {setup.cost} = {issued * setup.cost:,}; redemption entries "
          f"{spent_entries[0]:,} summing to {spent_entries[1]:,}; returned {returned[1]:,}; balances fell by "
          f"{points_taken:,} -> {'agree' if points_ok else 'DISAGREE'}")
    print(f"  platform checks: {totals['problems']['bad_token']} calls with a token it did not issue, "
          f"{len(platform.codes):,} distinct codes for "
          f"{creates:,} create calls, problems {dict(totals['problems']) or 'none'} -> "
          f"{'ok' if platform_ok else 'MISMATCH'}")
    print(f"  verify_balances for the shop: {len(ledger.mismatches)} mismatch(es)"
          + (f", first: {ledger.mismatches[:3]}" if ledger.mismatches else ""))
    consistent = all_issued and points_ok and platform_ok and not ledger.mismatches
    one_call = issued > 0 and creates == issued and all_issued
    return [
        Figure(f"(c) redemptions/s ({clients} clients, 50 ms platform)", f"{rps:,.1f}", "", None, raw=rps),
        Figure("(c) achieved / ideal (clients / 50 ms)", f"{rps / ideal_clients:.2f}", "", None),
        Figure("(c) achieved / CPU ceiling (cores / CPU per redemption)",
               f"{rps / ceiling:.2f}" if ceiling else "n/a", "", None),
        Figure("(c) CPU per redemption (app + postgres)",
               f"{per_request['app']:.1f} + {per_request['postgres']:.1f} ms" if per_request else "n/a", "", None),
        Figure("(c) redemption p50 / p99 latency", f"{result.p50_ms:.1f} / {result.p99_ms:.1f} ms", "", None),
        Figure("(c) Admin API calls per issued redemption", f"{per_issued:.2f}", "1.00", one_call),
        Figure("(c) redemptions consistent", f"{by_status}, {len(ledger.mismatches)} mismatches",
               "all issued, 0 mismatches", consistent),
    ]
