"""CPU time spent by the processes under test, read from /proc (Linux), per measured run.

On a shared 2-core box the req/s of a run moves with whatever else is running; the CPU
milliseconds each request costs the app (gunicorn's process group), its PostgreSQL backends
and the load generator move much less, and say where a request's time goes. Where /proc is
missing the figures are simply absent.
"""
import os
from dataclasses import dataclass

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: str) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            raw = handle.read()
    except OSError:
        return None
    # The command name may hold spaces; the fields after it are fixed.
    return raw[raw.rindex(")") + 2:].split()


def _cmdline(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _seconds(fields: list[str]) -> float:
    # utime and stime are fields 14 and 15 of /proc/PID/stat (11 and 12 after the name).
    return (int(fields[11]) + int(fields[12])) / TICKS


def snapshot(process_group: int, database: str) -> dict[str, float]:
    """CPU seconds so far of gunicorn's process group and of the backends serving `database`."""
    totals = {"app": 0.0, "postgres": 0.0}
    if not os.path.isdir("/proc"):
        return totals
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        fields = _stat(pid)
        if fields is None:
            continue
        if int(fields[2]) == process_group:  # field 5, pgrp
            totals["app"] += _seconds(fields)
        elif fields and database in _cmdline(pid) and _cmdline(pid).startswith("postgres:"):
            totals["postgres"] += _seconds(fields)
    return totals


def system() -> tuple[float, float]:
    """(busy, elapsed) CPU seconds of the whole box so far, summed over cores, from /proc/stat."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(value) for value in handle.readline().split()[1:]]
    except OSError:
        return 0.0, 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already inside user
    return (total - idle) / TICKS, total / TICKS


def children_seconds() -> float:
    """CPU seconds of this process's reaped children (wrk runs are waited for)."""
    usage = os.times()
    return usage.children_user + usage.children_system


@dataclass(frozen=True)
class CpuCost:
    app_ms: float
    postgres_ms: float
    wrk_ms: float

    @property
    def total_ms(self) -> float:
        return self.app_ms + self.postgres_ms + self.wrk_ms


def per_request(before: dict, after: dict, wrk_seconds: float, requests: int) -> CpuCost | None:
    if not requests:
        return None
    return CpuCost((after["app"] - before["app"]) * 1000 / requests,
                   (after["postgres"] - before["postgres"]) * 1000 / requests,
                   wrk_seconds * 1000 / requests)
