"""Part "storefront": what a shopper waits for through the app proxy, beside the bare route.

`GET /proxy/member.json` is what the theme's launcher calls on every page of the store; the
loyalty page `GET /proxy/` is what a shopper opens to redeem. Both are measured for members
with history, under `--storefront-clients` (32) concurrent shoppers, beside the bare route
(bench/wsgi.py) in the same run, on the same gunicorn as part (a).

Setup, in the bench's scratch database, through the domain's own functions: a shop with its
program (`shop_context`), three tiers (`create_tier`), MEMBERS members each with ORDERS paid
orders spread over the last year (`orders_paid`: ledger entries, lots, tier totals, a tier
each) and REDEMPTIONS redemptions (`redeem_reward`, left pending: no platform is called).

Measurement: wrk with C connections and no think time (closed loop, like part (a)); its Lua
script rotates over one signed URL per member, so the requests in flight are for distinct
shoppers. The proxy's signature holds a timestamp the guard accepts for 90 s, so the URLs
are signed again before each run. The bare route gets the same query string. Checks: every
answer 200, the JSON's balance of every member against the ledger, `verify_balances`.
"""
import hashlib
import hmac
import json
import random
import time
import urllib.request
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench import cpu, intake
from bench.report import Figure, fmt_int, heading, table

SHOP = "bench-storefront-{n}.myshopify.com"
CUSTOMER_BASE = 9_300_000_000
MEMBERS = 64
ORDERS = 40  # per member, over the last year
REDEMPTIONS = 5  # per member
PREFIX = "/apps/loyalty"
TIERS = (("Bronze", "0", "1"), ("Silver", "500", "1.25"), ("Gold", "2000", "1.5"))
P99_MEMBER_MS = 30.0
P99_PAGE_MS = 50.0
ENDPOINTS = (("bare", "/bench/bare"), ("member.json", "/proxy/member.json"), ("page", "/proxy/"))

LUA = r"""
local urls = {%(urls)s}
local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
  thread:set("tid", #threads)
end

local position, step = 0, 1
function init(args)
  step = tonumber(args[1])
  position = tid - 1
end

-- Thread t takes shoppers t, t+T, t+2T ...
function request()
  local url = urls[(position %% #urls) + 1]
  position = position + step
  return wrk.format("GET", url)
end

function done(summary, latency, requests)
""" + intake.LUA_RESULT + intake.LUA_HISTOGRAM + """end
"""


def proxy_query(customer_id: int, shop: str, secret: str) -> str:
    """The query string the platform's proxy appends, signed (SHOPIFY.md 4, as tests/helpers.py does)."""
    params = [("shop", shop), ("logged_in_customer_id", str(customer_id)), ("path_prefix", PREFIX),
              ("timestamp", str(int(time.time())))]
    message = "".join(f"{key}={value}" for key, value in sorted(params))
    signature = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return urlencode(params + [("signature", signature)])


def prepare(app, shop_domain: str) -> tuple[int, list[int]]:
    """The shop, its tiers and members with history; returns (shop id, customer ids)."""
    from plugin.db import transaction, utcnow
    from plugin.loyalty.earning.rules import OrderFacts
    from plugin.loyalty.orders import orders_paid, shop_context
    from plugin.loyalty.rewards.catalog import list_rewards
    from plugin.loyalty.rewards.redemptions import redeem_reward
    from plugin.loyalty.shops import find_shop
    from plugin.loyalty.tiers.definitions import create_tier
    from plugin.shopify.tokens import encrypt

    customers = [CUSTOMER_BASE + index for index in range(MEMBERS)]
    randomness = random.Random(7)
    with app.app_context():
        with transaction() as session:
            context = shop_context(session, shop_domain)
            shop = find_shop(session, shop_domain)
            shop.access_token = encrypt("shpat_bench_storefront")  # redeem_reward refuses a shop without one
            for name, threshold, multiplier in TIERS:
                create_tier(session, shop.program, {"name": name, "threshold": threshold, "multiplier": multiplier})
        now = utcnow()
        for start in range(0, len(customers), 8):
            with transaction() as session:
                orders = [OrderFacts(
                    order_id=customer * 100 + number, name=f"#{number}", customer_id=customer,
                    email=f"shopper{customer}@example.com",
                    subtotal=Decimal(randomness.randrange(2000, 15000)) / 100, gift_card_total=Decimal(0),
                    paid_at=now - timedelta(days=(ORDERS - number) * 300 / ORDERS, hours=randomness.randrange(24)))
                    for customer in customers[start:start + 8] for number in range(ORDERS)]
                orders_paid(session, context, orders)
        with transaction() as session:
            shop = find_shop(session, shop_domain)
            cheapest = min((r for r in list_rewards(session, shop.id) if r.active), key=lambda r: r.points_cost)
            for customer in customers:
                for _ in range(REDEMPTIONS):
                    redeem_reward(session, shop, customer, cheapest.id)
    return context.id, customers


def ledger_check(app, shop_id: int) -> tuple[dict[int, int], list, int]:
    """(balance by customer id, verify_balances mismatches, ledger entries) for the shop."""
    from plugin.db import transaction
    from plugin.loyalty.ledger.verification import verify_balances
    from plugin.models import LedgerEntry, Member

    with app.app_context(), transaction() as session:
        balances = dict(session.execute(select(Member.customer_id, Member.balance)
                                        .where(Member.shop_id == shop_id)).all())
        entries = session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.shop_id == shop_id))
        return balances, verify_balances(session, shop_id), entries


def write_script(directory: Path, name: str, path: str, queries: list[str]) -> Path:
    script = directory / f"storefront-{name}.lua"
    script.write_text(LUA % {"urls": ",".join(json.dumps(f"{path}?{query}") for query in queries)})
    return script


def part_storefront(args, run, env: dict, wrk: str, config: intake.ServerConfig) -> list[Figure]:
    from bench.redemptions import build_app

    clients, seconds = args.storefront_clients, args.storefront_seconds
    heading(f"(storefront) the app proxy's reads for members with history: gunicorn {config.describe()}, wrk -c "
            f"{clients} (closed loop), {seconds}s per endpoint in {args.rounds} alternating rounds after warm-ups")
    shop_domain = SHOP.format(n=uuid.uuid4().hex[:8])
    app = build_app(env, "http://127.0.0.1:9/{shop}")  # no platform call is made here
    started = time.perf_counter()
    try:
        shop_id, customers = prepare(app, shop_domain)
        before, mismatches, entries = ledger_check(app, shop_id)
    finally:
        app.extensions["engine"].dispose()
    print(f"  shop {shop_domain}: {len(customers)} members, each with {ORDERS} paid orders over the last year and "
          f"{REDEMPTIONS} redemptions ({entries:,} ledger entries), three tiers; set up in "
          f"{time.perf_counter() - started:.1f}s")

    secret = env["SHOPIFY_API_SECRET"]
    run.server = intake.Gunicorn(config, env, run.tmp)
    totals = {name: [None, 0.0, 0.0, 0.0] for name, _ in ENDPOINTS}  # result, app s, postgres s, wrk s
    answers: dict[int, dict] = {}
    try:
        run.server.wait_ready()
        url = run.server.base_url
        database = make_url(env["DATABASE_URL"]).database
        common = dict(connections=clients, threads=min(args.wrk_threads, clients))

        def scripts() -> dict[str, Path]:  # signed now: the guard accepts a timestamp for 90 s
            queries = [proxy_query(customer, shop_domain, secret) for customer in customers]
            return {name: write_script(run.tmp, name, path, queries) for name, path in ENDPOINTS}

        fresh = scripts()
        for name, _path in ENDPOINTS:
            _run_wrk(wrk, fresh[name], url, f"warm-{name}", args.warmup, **common)
        lengths = [seconds // args.rounds + (1 if i < seconds % args.rounds else 0) for i in range(args.rounds)]
        for length in lengths:
            fresh = scripts()
            for name, _path in ENDPOINTS:
                before_cpu, wrk_before = cpu.snapshot(run.server.process.pid, database), cpu.children_seconds()
                result = _run_wrk(wrk, fresh[name], url, name, length, **common)
                after_cpu, wrk_after = cpu.snapshot(run.server.process.pid, database), cpu.children_seconds()
                total = totals[name]
                total[0] = result if total[0] is None else total[0] + result
                total[1] += after_cpu["app"] - before_cpu["app"]
                total[2] += after_cpu["postgres"] - before_cpu["postgres"]
                total[3] += wrk_after - wrk_before
        for customer in customers:  # what each shopper was shown, read once more for the check
            with urllib.request.urlopen(f"{url}/proxy/member.json?{proxy_query(customer, shop_domain, secret)}",
                                        timeout=10) as answer:
                answers[customer] = json.loads(answer.read())
    finally:
        run.stop_server()

    app = build_app(env, "http://127.0.0.1:9/{shop}")
    try:
        after, mismatches, _entries = ledger_check(app, shop_id)
    finally:
        app.extensions["engine"].dispose()

    rows = [("endpoint", "requests", "req/s", "/ bare", "p50", "p90", "p99", "max", "errors",
             "CPU ms/req app+pg+wrk")]
    bare_rps = totals["bare"][0].rps
    cost = {}
    for name, path in ENDPOINTS:
        result, app_s, pg_s, wrk_s = totals[name]
        per = [value * 1000 / result.requests if result.requests else 0.0 for value in (app_s, pg_s, wrk_s)]
        cost[name] = per
        rows.append((f"GET {path}", fmt_int(result.requests), fmt_int(result.rps), f"{result.rps / bare_rps:.2f}",
                     f"{result.p50_ms:.1f} ms", f"{result.p90_ms:.1f} ms", f"{result.p99_ms:.1f} ms",
                     f"{result.max_ms:.1f} ms", result.errors or "none", "+".join(f"{v:.2f}" for v in per)))
    table(rows)
    shown_right = all(answers[c].get("balance") == after[c] and answers[c].get("logged_in") for c in customers)
    tiers_shown = sum(1 for c in customers if answers[c].get("tier"))
    unchanged = before == after
    print(f"  member.json agreed with the ledger for {sum(answers[c].get('balance') == after[c] for c in customers)}"
          f" of {len(customers)} members ({tiers_shown} with a tier); balances "
          f"{'unchanged by the reads' if unchanged else 'CHANGED'}; verify_balances: {len(mismatches)} mismatch(es)")
    member, page = totals["member.json"][0], totals["page"][0]
    consistent = shown_right and unchanged and not mismatches and not any(
        totals[name][0].errors for name, _ in ENDPOINTS)
    return [
        Figure(f"(storefront) member.json p99 ({clients} shoppers)", f"{member.p99_ms:.1f} ms",
               f"<= {P99_MEMBER_MS:.0f} ms", member.p99_ms <= P99_MEMBER_MS, raw=member.p99_ms),
        Figure(f"(storefront) page p99 ({clients} shoppers)", f"{page.p99_ms:.1f} ms", f"<= {P99_PAGE_MS:.0f} ms",
               page.p99_ms <= P99_PAGE_MS, raw=page.p99_ms),
        Figure("(storefront) member.json / page / bare req/s",
               f"{fmt_int(member.rps)} / {fmt_int(page.rps)} / {fmt_int(bare_rps)} "
               f"({member.rps / bare_rps:.2f} / {page.rps / bare_rps:.2f} of bare)", "", None),
        Figure("(storefront) CPU per request app+pg: member.json / page / bare",
               " / ".join(f"{cost[name][0]:.2f}+{cost[name][1]:.2f} ms" for name in ("member.json", "page", "bare")),
               "", None),
        Figure("(storefront) answers consistent", f"{len(mismatches)} mismatches, all 200: "
               f"{not any(totals[name][0].errors for name, _ in ENDPOINTS)}", "agree, 0 mismatches", consistent),
    ]


def _run_wrk(wrk: str, script: Path, url: str, label: str, seconds: int, connections: int,
             threads: int) -> intake.WrkResult:
    """intake.run_wrk with the thread count as the script's argument (its rotation step)."""
    import subprocess

    command = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "5s",
               "-s", str(script), url, "--", str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    lines = {line.split(" ", 1)[0]: line.split(" ", 1)[1] if " " in line else ""
             for line in done.stdout.splitlines() if line.startswith("BENCH_")}
    if done.returncode != 0 or "BENCH_RESULT" not in lines or "BENCH_HIST" not in lines:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    data = json.loads(lines["BENCH_RESULT"])
    errors = {key: data[key] for key in ("connect", "read", "write", "status", "timeout") if data[key]}
    histogram: dict[int, int] = {}
    for pair in filter(None, lines["BENCH_HIST"].strip().split(",")):
        micros, count = pair.split(":")
        histogram[int(micros)] = histogram.get(int(micros), 0) + int(float(count))
    return intake.WrkResult(label, (label,), data["requests"], data["duration_us"] / 1e6, errors, histogram)
