"""Part (a): gunicorn serving bench.wsgi, and wrk driving it with signed orders/paid webhooks.

Every request carries the same body and signature (the HMAC covers the body only) and a
webhook id made unique per request by the Lua script (`<run prefix>-<thread>-<counter>`),
so no delivery short-circuits as a duplicate. The bare route gets the very same request, so
both runs cost the client the same. The script's `done()` prints one JSON line with the
totals and the latency histogram, which `run_wrk` reads; histograms of several runs merge
exactly, so alternating rounds of bare and intake still give true percentiles. gunicorn
runs in its own process group, which `Gunicorn.stop` signals as a whole.
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

# Lua that writes wrk's totals and errors as one JSON line, read back by the bench.
LUA_RESULT = r"""  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %%d, "duration_us": %%d, "connect": %%d, "read": %%d, "write": %%d, ' ..
    '"status": %%d, "timeout": %%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout))
"""

# Lua that writes wrk's latency histogram (microseconds: count), so runs merge exactly.
# Shared by every wrk script of the bench; %% escapes because the scripts are %-templates.
LUA_HISTOGRAM = r"""  local bins = {}
  if latency.max > 0 then
    if pcall(function() return latency(1) end) then
      for i = 1, #latency do
        local value, count = latency(i)
        if count and count > 0 then bins[#bins + 1] = string.format("%%d:%%d", value, count) end
      end
    else
      for us = latency.min, latency.max do
        local count = latency[us + 1]
        if count > 0 then bins[#bins + 1] = string.format("%%d:%%d", us, count) end
      end
    end
  end
  io.write("BENCH_HIST " .. table.concat(bins, ",") .. "\n")
"""

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
""" + LUA_RESULT + r"""  -- The latency histogram (microseconds: count), so runs can be merged exactly.
  -- wrk 4.1 (Debian) exposes it as latency(i) -> value, count over #latency distinct values;
  -- wrk 4.0 as latency[us + 1] -> count.
""" + LUA_HISTOGRAM + """end
"""


@dataclass(frozen=True)
class ServerConfig:
    workers: int = 3
    worker_class: str = "sync"
    threads: int = 1

    def describe(self) -> str:
        if self.worker_class == "gthread":
            return f"-w {self.workers} -k gthread --threads {self.threads}"
        return f"-w {self.workers} -k {self.worker_class}"


@dataclass(frozen=True)
class WrkResult:
    """One or more wrk runs against one endpoint, merged: totals and the latency histogram."""

    label: str
    prefixes: tuple[str, ...]
    requests: int
    seconds: float
    errors: dict
    histogram: dict  # latency in microseconds -> responses

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def percentile_ms(self, percent: float) -> float:
        """As wrk computes it: the smallest latency with at least `percent`% of responses at or below."""
        total = sum(self.histogram.values())
        if not total:
            return 0.0
        wanted, seen = total * percent / 100, 0
        for micros in sorted(self.histogram):
            seen += self.histogram[micros]
            if seen >= wanted:
                return micros / 1000
        return max(self.histogram) / 1000

    @property
    def p50_ms(self) -> float:
        return self.percentile_ms(50)

    @property
    def p90_ms(self) -> float:
        return self.percentile_ms(90)

    @property
    def p99_ms(self) -> float:
        return self.percentile_ms(99)

    @property
    def max_ms(self) -> float:
        return max(self.histogram, default=0) / 1000

    def __add__(self, other: "WrkResult") -> "WrkResult":
        histogram = dict(self.histogram)
        for micros, count in other.histogram.items():
            histogram[micros] = histogram.get(micros, 0) + count
        errors = dict(self.errors)
        for key, count in other.errors.items():
            errors[key] = errors.get(key, 0) + count
        return WrkResult(self.label, self.prefixes + other.prefixes, self.requests + other.requests,
                         self.seconds + other.seconds, errors, histogram)


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
    command = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "5s",
               "-s", str(script), url, "--", prefix]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    lines = {line.split(" ", 1)[0]: line.split(" ", 1)[1] if " " in line else ""
             for line in done.stdout.splitlines() if line.startswith("BENCH_")}
    if done.returncode != 0 or "BENCH_RESULT" not in lines or "BENCH_HIST" not in lines:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    data = json.loads(lines["BENCH_RESULT"])
    errors = {key: data[key] for key in ("connect", "read", "write", "status", "timeout") if data[key]}
    histogram = {}
    for pair in filter(None, lines["BENCH_HIST"].strip().split(",")):
        micros, count = pair.split(":")
        histogram[int(micros)] = int(float(count))
    return WrkResult(label, (prefix,), data["requests"], data["duration_us"] / 1e6, errors, histogram)


def scratch_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="loyalty-bench-"))
