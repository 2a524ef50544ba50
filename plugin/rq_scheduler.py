"""RQ's scheduler child, made to die with the worker that forked it.

A worker started `with_scheduler` forks RQ's scheduler as a plain child process. When the
worker is SIGKILLed (the OOM killer, a `kill -9`), nothing stops the child: adopted by init,
it keeps refreshing `rq:scheduler-lock:*` until someone kills it, and no new worker's
scheduler can take those queues meanwhile (issue 21). So the child asks Linux to send it
SIGTERM when its parent dies (prctl PR_SET_PDEATHSIG), which RQ's own handler turns into a
clean stop (locks released, death registered); and every heartbeat (each second) checks
that its parent is still the worker that forked it, for a parent that died before the
request took effect, and for systems without prctl.
"""
import ctypes
import ctypes.util
import os
import signal

from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.scheduler import RQScheduler

PR_SET_PDEATHSIG = 1


class Scheduler(RQScheduler):
    """RQ's scheduler that stops once the worker that forked it is gone."""

    parent_pid: int | None = None

    def start(self):
        self.parent_pid = os.getpid()  # the worker, about to fork the child
        return super().start()

    def work(self):
        _signal_me_when_my_parent_dies(signal.SIGTERM)
        super().work()

    def heartbeat(self):
        if self.parent_pid is not None and os.getppid() != self.parent_pid:
            self.log.warning("scheduler %s: the worker that forked it is gone; stopping", os.getpid())
            self.request_stop()
            return
        super().heartbeat()


class SchedulerDiesWithWorker:
    """A worker mixin: RQ's `_start_scheduler`, with `Scheduler` in place of RQScheduler."""

    def _start_scheduler(self, burst: bool = False, logging_level: str | None = "INFO",
                         date_format: str = DEFAULT_LOGGING_DATE_FORMAT, log_format: str = DEFAULT_LOGGING_FORMAT):
        self.scheduler = Scheduler(self.queues, connection=self.connection, serializer=self.serializer,
                                   logging_level=logging_level if logging_level is not None else self.log.level,
                                   date_format=date_format, log_format=log_format)
        self.scheduler.acquire_locks()
        if not self.scheduler.acquired_locks:
            return
        if not burst:
            self.scheduler.start()
            return
        try:
            self.scheduler.register_birth()
            self.scheduler.enqueue_scheduled_jobs()
        finally:
            self.scheduler.release_locks()
            self.scheduler.register_death()


def _signal_me_when_my_parent_dies(signum: int) -> None:
    """Linux only; elsewhere the heartbeat's check alone stops the child."""
    library = ctypes.util.find_library("c")
    if library is None:
        return
    try:
        ctypes.CDLL(library, use_errno=True).prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)
    except (OSError, AttributeError):
        pass
