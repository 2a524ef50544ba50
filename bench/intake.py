"""Part (a): gunicorn serving bench.wsgi, and wrk driving it with signed orders/paid webhooks.

Every request carries the same body and signature (the HMAC covers the body only) and a
webhook id made unique per request by the Lua script (`<run prefix>-<thread>-<counter>`),
so no delivery short-circuits as a duplicate. The bare route gets the very same request, so
both runs cost the client the same. The script's `done()` prints one JSON line with the
totals and latency percentiles, which `run_wrk` reads.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench.payloads import API_VERSION, SHOP
from webhooks.verification import signature

ROOT = Path(__file__).resolve().parent.parent

LUA = r"""
wrk.method = "POST"
wrk.body = [==[%(body)s]==]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Shopify-Topic"] = "orders/paid"
wrk.headers["X-Shopify-Shop-Domain"] = "%(shop)s"
wrk.headers["X-Shopify-API-Version"] = "%(api_version)s"
wrk.headers["X-Shopify-Hmac-Sha256"] = "%(signature)s"

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local prefix = "x-"
local counter = 0
function init(args)
  prefix = args[1] .. "-" .. tostring(tid) .. "-"
end

function request()
  counter = counter + 1
  wrk.headers["X-Shopify-Webhook-Id"] = prefix .. counter
  return wrk.format()
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %%d, "duration_us": %%d, "connect": %%d, "read": %%d, "write": %%d, ' ..
    '"status": %%d, "timeout": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, "max_us": %%d, "mean_us": %%.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


@dataclass(frozen=True)
class ServerConfig:
    workers: int = 4
    worker_class: str = "sync"
    threads: int = 1

    def describe(self) -> str:
        if self.worker_class == "gthread":
            return f"-w {self.workers} -k gthread --threads {self.threads}"
        return f"-w {self.workers} -k {self.worker_class}"


@dataclass(frozen=True)
class WrkResult:
    label: str
    prefix: str
    requests: int
    seconds: float
    errors: dict
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """One gunicorn server in its own process group, stopped (group and all) on `stop`."""

    def __init__(self, config: ServerConfig, env: dict, log_dir: Path):
        self.config = config
        self.port = free_port()
        self.log = open(log_dir / "gunicorn.log", "w+")
        command = [sys.executable, "-m", "gunicorn", "bench.wsgi:app", "--bind", f"127.0.0.1:{self.port}",
                   "--workers", str(config.workers), "--worker-class", config.worker_class,
                   "--threads", str(config.threads), "--backlog", "2048", "--keep-alive", "5",
                   "--log-level", "warning", "--graceful-timeout", "5", "--timeout", "60"]
        if Path("/dev/shm").is_dir():
            command += ["--worker-tmp-dir", "/dev/shm"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.base_url + "/bench/bare", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f}s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-chars:]

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait(timeout=5)
        self.log.close()


def write_script(directory: Path, secret: str, body: bytes) -> Path:
    text = body.decode()
    if "]==]" in text:
        raise ValueError("the body cannot be embedded in a Lua long string")
    path = directory / "webhooks.lua"
    path.write_text(LUA % {"body": text, "shop": SHOP, "api_version": API_VERSION,
                           "signature": signature(secret, body)})
    return path


def run_wrk(wrk: str, script: Path, url: str, label: str, seconds: int, connections: int = 32,
            threads: int = 2) -> WrkResult:
    prefix = f"{label}-{uuid.uuid4().hex[:10]}"
    command = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
               "-s", str(script), url, "--", prefix]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    line = next((l for l in done.stdout.splitlines() if l.startswith("BENCH_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    data = json.loads(line[len("BENCH_RESULT "):])
    errors = {key: data[key] for key in ("connect", "read", "write", "status", "timeout") if data[key]}
    return WrkResult(label, prefix, data["requests"], data["duration_us"] / 1e6, errors,
                     data["p50_us"] / 1000, data["p90_us"] / 1000, data["p99_us"] / 1000,
                     data["max_us"] / 1000, data["mean_us"] / 1000)


def scratch_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="loyalty-bench-"))
