"""The per-key rate limit: a token bucket of `rate` tokens a second holding at most `burst`.

With Redis configured the bucket lives there, updated by one Lua script that reads Redis's
own clock, so every process of the deployment (gunicorn workers, hosts) draws from the same
bucket and no two requests can both take its last token. Without Redis (the embedded
default: `make run` is one threaded process) the bucket lives in process memory under a
lock, which is exact for that one process and costs no database write per request; SQLite
has one writer at a time, and a write per API call would queue behind every job's. A
deployment of several processes runs Redis anyway for its workers. If Redis fails during a
request the process's own bucket answers, so an outage neither opens nor closes the API.

Buckets are named by the key's hash, never by its row id, which a test database reuses.
"""
import logging
import math
import threading
import time

from flask import current_app
from redis.exceptions import RedisError

from plugin.queue import prefixed, redis_connection

log = logging.getLogger(__name__)

# Returns the seconds to wait as a string (Lua numbers come back truncated to integers).
TAKE_SCRIPT = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return tostring(wait)
"""


class RateError(ValueError):
    """`LOYALTY_API_KEY_RATE` is not `<per second>/<burst>`."""


def parse_rate(value: str) -> tuple[float, int]:
    """`"10/40"` -> (10.0, 40): requests per second, and the burst a quiet key may spend at once."""
    try:
        per_second, burst = value.split("/")
        rate, size = float(per_second), int(burst)
    except ValueError:
        raise RateError("LOYALTY_API_KEY_RATE must be <requests per second>/<burst>, e.g. 10/40, "
                        f"not {value!r}") from None
    if not (math.isfinite(rate) and rate > 0 and size >= 1):
        raise RateError("LOYALTY_API_KEY_RATE needs a rate above 0 and a burst of at least 1")
    return rate, size


def take(bucket: str) -> float:
    """Take one token from the key's bucket: 0 if the request may go, else the seconds to wait."""
    rate, burst = current_app.config["API_KEY_RATE"]
    redis = redis_connection()
    if redis is not None:
        try:
            return float(_script(redis)(keys=[prefixed(f"api-key-rate:{bucket}")], args=[rate, burst]))
        except RedisError as error:
            log.warning("api key rate: Redis unavailable (%s), this process's bucket answers", type(error).__name__)
    return _memory_buckets().take(bucket, rate, burst)


def retry_after(wait: float) -> int:
    """The `Retry-After` header's whole seconds: never 0, which would invite an instant retry."""
    return max(1, math.ceil(wait))


def _script(redis):
    scripts = current_app.extensions.setdefault("api-key-rate-scripts", {})
    if id(redis) not in scripts:
        scripts[id(redis)] = redis.register_script(TAKE_SCRIPT)
    return scripts[id(redis)]


def _memory_buckets() -> "MemoryBuckets":
    return current_app.extensions.setdefault("api-key-rate-buckets", MemoryBuckets())


class MemoryBuckets:
    """The same bucket as the script, per process. Buckets are few (one per key in use)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, bucket: str, rate: float, burst: int) -> float:
        now = time.monotonic()
        with self._lock:
            tokens, at = self._state.get(bucket, (float(burst), now))
            tokens = min(burst, tokens + (now - at) * rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / rate
            self._state[bucket] = (tokens - 1 if wait == 0 else tokens, now)
        return wait
