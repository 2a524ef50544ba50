"""The job queue: the Redis connection, queue names, and enqueueing by dotted path.

It knows no job: callers name the function to run as a dotted path ("webhooks.jobs.drain"),
so the modules that define jobs can enqueue each other without importing each other. Queue
names are prefixed with QUEUE_PREFIX so two deployments (or test runs) can share a Redis
without taking each other's jobs. Enqueueing never raises for a queue outage: what was to
be done is in the database, and the sweeper (plugin/schedule.py) asks again later.
"""
import logging
from datetime import timedelta

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry

log = logging.getLogger(__name__)

WEBHOOKS = "webhooks"
# Jobs that call the store platform, kept apart so a slow platform never delays the ledger.
PLATFORM = "platform"
# Deliveries to the merchant's own endpoints (plugin/loyalty/events/delivery.py): a slow
# receiver must not hold a worker that the webhooks queue needs.
EVENTS = "events"
# Requests (the webhook intake above all) give Redis this long: a hung Redis must cost an
# answer at most a fraction of a second, since the event is stored and the sweeper enqueues it.
REQUEST_REDIS_TIMEOUT = 0.25
# Workers wait longer: their dequeue blocks, and RQ raises the read timeout to suit it.
WORKER_REDIS_TIMEOUT = 5


def redis_connection(for_worker: bool = False) -> Redis | None:
    """The app's Redis, or None when jobs run in-process (no REDIS_URL)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    key = "redis-worker" if for_worker else "redis"
    if key not in current_app.extensions:
        timeout = WORKER_REDIS_TIMEOUT if for_worker else REQUEST_REDIS_TIMEOUT
        current_app.extensions[key] = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                                     health_check_interval=30)
    return current_app.extensions[key]


def prefixed(name: str) -> str:
    """A Redis key or queue name of this deployment."""
    return f"{current_app.config['QUEUE_PREFIX']}-{name}"


def heartbeat_key() -> str:
    """Where workers say they are alive (plugin/schedule.py) and /healthz looks."""
    return f"{current_app.config['QUEUE_PREFIX']}:worker-heartbeat"


def queue(name: str, connection: Redis) -> Queue:
    return Queue(prefixed(name), connection=connection)


def enqueue(queue_name: str, job: str, *args, job_id: str, delay: timedelta | None = None,
            retry: Retry | None = None, result_ttl: int = 300) -> bool:
    """Put `job` (a dotted path) on a queue, now or after `delay`; False if Redis is down."""
    connection = redis_connection()
    if connection is None:
        raise RuntimeError("no REDIS_URL: jobs run in-process, nothing can be enqueued")
    target = queue(queue_name, connection)
    options = dict(job_id=job_id, retry=retry, result_ttl=result_ttl, failure_ttl=86400)
    try:
        if delay is None:
            target.enqueue(job, *args, **options)
        else:
            target.enqueue_in(delay, job, *args, **options)
        return True
    except (RedisError, ValueError) as error:
        log.warning("could not enqueue %s (%s); the sweeper will ask again", job_id, type(error).__name__)
        return False
