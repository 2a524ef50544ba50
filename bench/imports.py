"""Part "imports": a points history previewed and applied, on PostgreSQL and on SQLite.

For each size (history rows, members) and each backend, a generic `kind=history` file is
written to disk (customer ids, signed points, dates, external ids, as GET /api/ledger/export
writes them), then a fresh process previews it (plugin/loyalty/imports/previews.py, the
upload streamed from disk as Werkzeug spools it) and applies it batch by batch as the apply
job does (plugin/loyalty/imports/jobs.py `apply_in_batches`). Each process reports its
wall time, its CPU time and its peak RSS (`ru_maxrss`), so memory is measured per run and
compared across sizes: flat in file size means the largest size's peak is close to the
smallest's. Rows per second and CPU microseconds per row are printed beside pgbench TPC-B
of the same run (the caller's baseline).

The issue's size is 1,000,000 rows for 100,000 members (`--import-sizes 1000000:100000`);
on the shared 2-core box the default is two smaller sizes, whose ratio shows the trend.

    python -m bench --parts imports,pgbench --import-sizes 20000:2000,100000:10000
"""
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

DEFAULT_SIZES = ((20_000, 2_000), (100_000, 10_000))
RSS_TARGET_MB = 300.0
ROOT = Path(__file__).resolve().parent.parent


def parse_sizes(text: str) -> list[tuple[int, int]]:
    return [tuple(int(n) for n in size.split(":")) for size in text.split(",") if size.strip()] or list(DEFAULT_SIZES)


def write_history(path: Path, rows: int, members: int) -> int:
    """The file: each member's history, one entry per row, dated over the last two years."""
    rng, start = random.Random(42), datetime(2025, 1, 1, tzinfo=timezone.utc)
    with open(path, "w", encoding="utf-8") as out:
        out.write("customer_id,points,created_at,reason,external_id\n")
        for n in range(rows):
            customer = 1_000_000 + n % members
            spend = n % 10 == 9  # one row in ten spends points the member earned before
            points = -rng.randint(1, 5) if spend else rng.randint(10, 100)
            when = (start + timedelta(minutes=n)).isoformat()
            out.write(f"{customer},{points},{when},Order #{n},{n + 1}\n")
    return path.stat().st_size


def run(database_url: str, sizes: list[tuple[int, int]], workdir: Path) -> list[dict]:
    """Every size on PostgreSQL (`database_url`, migrated) and on a fresh migrated SQLite file."""
    results = []
    for rows, members in sizes:
        path = workdir / f"history-{rows}.csv"
        size = write_history(path, rows, members)
        for backend in ("postgresql", "sqlite"):
            url = database_url if backend == "postgresql" else _sqlite(workdir, rows)
            found = _child(url, path, rows)
            results.append({"backend": backend, "rows": rows, "members": members, "file_mb": size / 1e6, **found})
            _print(results[-1])
    return results


def _sqlite(workdir: Path, rows: int) -> str:
    from plugin import migrate

    url = f"sqlite:///{workdir / f'imports-{rows}.sqlite3'}"
    migrate.upgrade(url)
    return url


def _child(url: str, path: Path, rows: int) -> dict:
    """One preview and apply in a process of its own: its peak RSS is this run's alone."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "bench.imports", "--child", url, str(path)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=6 * 3600)
    if done.returncode != 0:
        raise RuntimeError(f"the import run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child(url: str, path: str) -> dict:
    from cryptography.fernet import Fernet
    from sqlalchemy import func, select

    from plugin import create_app
    from plugin.db import transaction
    from plugin.loyalty.imports.applying import start_apply
    from plugin.loyalty.imports.jobs import apply_in_batches
    from plugin.loyalty.imports.previews import preview_import
    from plugin.loyalty.shops import get_or_create_shop
    from plugin.models import LedgerEntry, Member

    app = create_app({"DATABASE_URL": url, "REDIS_URL": None, "SHOPIFY_API_KEY": "bench-imports",
                      "SHOPIFY_API_SECRET": uuid.uuid4().hex, "LOYALTY_ENCRYPTION_KEY": Fernet.generate_key().decode(),
                      "SWEEP_INTERVAL_SECONDS": 0})
    result = {}
    with app.app_context():
        domain = f"bench-imports-{uuid.uuid4().hex[:8]}.myshopify.com"
        started, cpu = time.perf_counter(), time.process_time()
        with transaction() as session, open(path, "rb") as stream:
            shop = get_or_create_shop(session, domain)
            imported = preview_import(session, shop, stream, "history", "generic", lambda emails: [])
            assert imported.errors_total == 0, imported.errors[:3]
            start_apply(session, imported)
            import_id, shop_id, rows = imported.id, shop.id, imported.rows
        result.update(preview_s=time.perf_counter() - started, preview_cpu_s=time.process_time() - cpu)
        result["preview_rss_mb"] = _rss_mb()
        started, cpu = time.perf_counter(), time.process_time()
        apply_in_batches(import_id)
        result.update(apply_s=time.perf_counter() - started, apply_cpu_s=time.process_time() - cpu)
        with transaction() as session:
            entries = session.scalar(select(func.count()).select_from(LedgerEntry)
                                     .where(LedgerEntry.shop_id == shop_id))
            total = session.scalar(select(func.sum(Member.balance + Member.pending)).where(Member.shop_id == shop_id))
            net = session.scalar(select(func.sum(LedgerEntry.delta)).where(LedgerEntry.shop_id == shop_id))
    app.extensions["engine"].dispose()
    result.update(rows_read=rows, entries=entries, ledger_agrees=int(total or 0) == int(net or 0),
                  peak_rss_mb=_rss_mb())
    return result


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def _print(r: dict) -> None:
    print(f"  {r['backend']:<10} {r['rows']:>9,} rows / {r['members']:>7,} members ({r['file_mb']:.1f} MB): "
          f"preview {r['preview_s']:.1f} s ({r['rows'] / r['preview_s']:,.0f} rows/s, "
          f"{r['preview_cpu_s'] / r['rows'] * 1e6:.0f} µs CPU/row), apply {r['apply_s']:.1f} s "
          f"({r['rows'] / r['apply_s']:,.0f} rows/s, {r['apply_cpu_s'] / r['rows'] * 1e6:.0f} µs CPU/row), "
          f"peak RSS {r['peak_rss_mb']:.0f} MB (after preview {r['preview_rss_mb']:.0f} MB), "
          f"entries {r['entries']:,}, ledger agrees: {r['ledger_agrees']}", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(child(sys.argv[2], sys.argv[3])))
    else:
        with tempfile.TemporaryDirectory() as scratch:
            run(sys.argv[1], parse_sizes(sys.argv[2] if len(sys.argv) > 2 else ""), Path(scratch))
