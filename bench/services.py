"""The bench's surroundings: scratch PostgreSQL databases, the Redis db, tools, pgbench.

Every database the bench creates is named `loyalty_bench_<random>` (and `..._pgbench`) and is
dropped at the end, also after an error. Redis uses its own db number (14 by default), which
is flushed at the start and at the end.
"""
import glob
import os
import re
import shutil
import subprocess
import uuid

from redis import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from plugin import migrate
from plugin.config import database_url

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"


class BenchError(RuntimeError):
    """The bench itself cannot run (a missing tool, an unreachable service)."""


def base_database_url() -> URL:
    """The server to bench on: BENCH_DATABASE_URL, else a PostgreSQL DATABASE_URL, else loopback."""
    raw = os.environ.get("BENCH_DATABASE_URL") or ""
    if not raw and os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql")):
        raw = os.environ["DATABASE_URL"]
    return make_url(database_url(raw or DEFAULT_DATABASE))


def redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS


class ScratchDatabases:
    """Creates databases on the base server and drops every one of them on `drop_all`."""

    def __init__(self, base: URL):
        self.base = base
        self.tag = uuid.uuid4().hex[:8]
        self.created: list[str] = []
        self.admin = create_engine(base, isolation_level="AUTOCOMMIT")

    def create(self, suffix: str = "") -> str:
        name = f"loyalty_bench_{self.tag}{suffix}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.url(name)

    def url(self, name: str) -> str:
        return self.base.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        try:
            if self.created:
                with self.admin.connect() as connection:
                    for name in reversed(self.created):
                        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                self.created.clear()
        finally:
            self.admin.dispose()


def app_database(scratch: ScratchDatabases) -> str:
    url = scratch.create()
    migrate.upgrade(url)
    return url


def fresh_redis(url: str) -> Redis:
    connection = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    connection.ping()
    connection.flushdb()
    return connection


def ensure_wrk() -> str:
    """The wrk binary; installed from Debian when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise BenchError("wrk is not installed; install it with `sudo apt-get install -y wrk` and run again")
    print("wrk is missing: installing it with apt-get ...", flush=True)
    for command in (["apt-get", "install", "-y", "-qq", "wrk"], ["apt-get", "update", "-qq"],
                    ["apt-get", "install", "-y", "-qq", "wrk"]):
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        if shutil.which("wrk"):
            return shutil.which("wrk")
    raise BenchError("wrk is missing and `apt-get install -y wrk` did not provide it")


def find_pgbench() -> str | None:
    found = shutil.which("pgbench")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"))
    return candidates[-1] if candidates else None


def _libpq_args(url: str) -> tuple[list[str], dict]:
    parsed = make_url(url)
    args = ["-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432), "-U", parsed.username or "postgres"]
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    return args, env


def pgbench_tps(scratch: ScratchDatabases, seconds: int = 5) -> tuple[float | None, str]:
    """TPC-B tps of `pgbench -c 4 -j 2 -T seconds` on a scratch database, and a note."""
    binary = find_pgbench()
    if binary is None:
        return None, "pgbench not found (it ships with the postgresql package)"
    url = scratch.create("_pgbench")
    args, env = _libpq_args(url)
    name = make_url(url).database
    init = subprocess.run([binary, "-i", "-q", *args, name], capture_output=True, text=True, env=env)
    if init.returncode != 0:
        return None, f"pgbench -i failed: {init.stderr.strip()[-300:]}"
    run = subprocess.run([binary, "-c", "4", "-j", "2", "-T", str(seconds), *args, name],
                         capture_output=True, text=True, env=env)
    found = re.search(r"tps = ([\d.]+)", run.stdout)
    if run.returncode != 0 or not found:
        return None, f"pgbench failed: {(run.stderr or run.stdout).strip()[-300:]}"
    return float(found.group(1)), f"{binary}, scale 1, -c 4 -j 2 -T {seconds}"


def server_settings(url: str) -> dict:
    """The PostgreSQL settings that decide commit cost, for the report."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('server_version', 'fsync', 'synchronous_commit', 'shared_buffers', 'max_connections')")).all()
    finally:
        engine.dispose()
    return dict(rows)
