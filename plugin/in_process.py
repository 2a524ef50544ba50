"""What a job does without Redis (no REDIS_URL, e.g. `make run`): the in-process behaviours.

Each job in the registry (plugin/jobs.py) names one of these, or None when nothing need
happen (a periodic job catches up). `plugin.queue.request` calls it with the job's function,
its arguments and its id, inside the caller's app context; it returns True once the job ran
or was handed on.

- `RunNow`: in the caller, at once; a failure is logged, since whoever asked has committed
  what was to be done and the sweeper (or the next period) asks again.
- `WakeThread`: a daemon thread per app runs the job when woken, and on its own when `idle`
  says the next work falls due; the caller never waits, so a slow job (a receiver that hangs)
  cannot hold up a request or a webhook drain.
"""
import logging
import threading
from contextlib import nullcontext
from typing import Callable

from flask import current_app

log = logging.getLogger(__name__)


class RunNow:
    """Run the job in the caller; `one_at_a_time` serialises it within the process."""

    def __init__(self, one_at_a_time: bool = False):
        self.lock = threading.Lock() if one_at_a_time else None

    def __call__(self, run: Callable, args: tuple, job_id: str) -> bool:
        with self.lock or nullcontext():
            try:
                run(*args)
            except Exception:
                log.exception("in-process job %s failed; it is asked for again later", job_id)
        return True


class WakeThread:
    """A daemon thread per app runs the job (which takes no arguments) when woken, and after
    `idle()` seconds otherwise; `idle` runs in the thread's app context."""

    def __init__(self, idle: Callable[[], float]):
        self.idle = idle
        self.threads: dict[int, _Waker] = {}
        self.lock = threading.Lock()

    def __call__(self, run: Callable, args: tuple, job_id: str) -> bool:
        app = current_app._get_current_object()
        with self.lock:
            if id(app) not in self.threads:
                self.threads[id(app)] = _Waker(app, run, self.idle)
            self.threads[id(app)].wake()
        return True


class _Waker:
    def __init__(self, app, run: Callable, idle: Callable[[], float]):
        self.app, self.run, self.idle, self.woken = app, run, idle, threading.Event()
        threading.Thread(target=self._loop, name=f"in-process-{run.__name__}", daemon=True).start()

    def wake(self) -> None:
        self.woken.set()

    def _loop(self) -> None:
        while True:
            self.woken.wait(timeout=self._idle_seconds())
            self.woken.clear()
            with self.app.app_context():
                try:
                    self.run()
                except Exception:
                    log.exception("in-process job %s failed; trying again later", self.run.__name__)

    def _idle_seconds(self) -> float:
        with self.app.app_context():
            return self.idle()
