"""The job queue: the Redis connection, queue names, and the one way to ask for a job.

Every job is listed once, by name, in plugin/jobs.py (the registry): its function, its
queue, its retry, and what it does without Redis (plugin/in_process.py). The app factory
hands that list to this module (`init_app`), so the queue imports no job and the modules
that ask for jobs import neither each other nor the jobs: they call
`request("drain-webhook-events", job_id=...)`. With Redis the job is enqueued under its
name, not a module path, so moving a function never strands a queued job; a worker runs it
through `RegisteredJob`, which also maps the dotted paths RQ may still hold from before
(the registry's legacy table). Without Redis, the job's in-process behaviour runs instead.

To add a job: write it as a plain function taking ids, add a `JobSpec` to `JOBS` in
plugin/jobs.py, and call `request(its name, *args, job_id=...)` where it is wanted.

Queue names are prefixed with QUEUE_PREFIX so two deployments (or test runs) can share a
Redis without taking each other's jobs. Asking never raises for a queue outage: what was
to be done is in the database, and the sweeper (plugin/schedule.py) asks again later.
"""
import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Callable, Iterable

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.job import Job

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


@dataclass(frozen=True)
class JobSpec:
    """One row of the registry. `in_process` is called as (run, args, job_id) when there is
    no Redis; None means nothing need happen then."""

    name: str
    run: Callable
    queue: str
    retry: Retry | None = None
    result_ttl: int = 300
    in_process: Callable[[Callable, tuple, str], bool] | None = None


@dataclass(frozen=True)
class Flag:
    """Coalescing: a Redis key set (NX, lapsing after `seconds`) when the job is enqueued;
    while it is set, asking again enqueues nothing. A job that clears it (`clear_flag`)
    before it reads lets work that arrives after that read ask anew."""

    key: str
    seconds: int


class Registry:
    def __init__(self, jobs: Iterable[JobSpec], legacy: dict[str, tuple]):
        self.jobs = {job.name: job for job in jobs}
        self.legacy = legacy
        unknown = {row[0] for row in legacy.values()} - set(self.jobs)
        if unknown:
            raise ValueError(f"the legacy table names jobs that are not registered: {sorted(unknown)}")

    def job(self, name: str) -> JobSpec:
        try:
            return self.jobs[name]
        except KeyError:
            raise LookupError(f"no job named {name!r}: jobs are registered in plugin/jobs.py") from None

    def function(self, func_name: str) -> Callable:
        """What a queued job runs: a registered name, or a legacy path with the arguments it
        implied (an old job that named one periodic job by its own function)."""
        if func_name in self.legacy:
            name, *bound = self.legacy[func_name]
            run = self.job(name).run
            return partial(run, *bound) if bound else run
        return self.job(func_name).run


def init_app(app, jobs: Iterable[JobSpec], legacy: dict[str, tuple]) -> None:
    app.extensions["jobs"] = Registry(jobs, legacy)


def registry() -> Registry:
    return current_app.extensions["jobs"]


def request(name: str, *args, job_id: str, coalesce: Flag | None = None, delay: timedelta | None = None,
            result_ttl: int | None = None) -> bool:
    """Ask for the job `name` with `args`: enqueued (after `delay`, unless `coalesce` finds
    one already waiting) with Redis, its in-process behaviour without. True if it was
    enqueued, ran or was handed on; False if coalesced, not needed in-process, or Redis failed."""
    job = registry().job(name)
    connection = redis_connection()
    if connection is None:
        # No flag in-process: each behaviour runs or wakes at once, so there is nothing to coalesce.
        return job.in_process is not None and job.in_process(job.run, args, job_id)
    if coalesce is not None and not _raise_flag(connection, coalesce, job_id):
        return False
    return _enqueue(connection, job, args, job_id, delay, job.result_ttl if result_ttl is None else result_ttl)


def _raise_flag(connection: Redis, flag: Flag, job_id: str) -> bool:
    try:
        return bool(connection.set(flag.key, job_id, nx=True, ex=flag.seconds))
    except RedisError as error:
        log.warning("could not ask for %s (%s); the sweeper asks again", job_id, type(error).__name__)
        return False


def _enqueue(connection: Redis, job: JobSpec, args: tuple, job_id: str, delay: timedelta | None,
             result_ttl: int) -> bool:
    target = queue(job.queue, connection)
    options = dict(job_id=job_id, retry=job.retry, result_ttl=result_ttl, failure_ttl=86400)
    try:
        if delay is None:
            target.enqueue(job.name, *args, **options)
        else:
            target.enqueue_in(delay, job.name, *args, **options)
        return True
    except (RedisError, ValueError) as error:
        log.warning("could not enqueue %s (%s); the sweeper will ask again", job_id, type(error).__name__)
        return False


def clear_flag(key: str) -> None:
    """A coalescing job calls this before it reads (see `Flag`)."""
    connection = redis_connection()
    if connection is not None:
        try:
            connection.delete(key)
        except RedisError:
            pass  # the flag lapses on its own


class RegisteredJob(Job):
    """The workers' job class: `func_name` is a registry name, or a dotted path from before
    the registry that its legacy table maps. The worker runs jobs inside the app context."""

    @property
    def func(self):
        return registry().function(self.func_name)


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
