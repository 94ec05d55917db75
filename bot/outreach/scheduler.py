"""The clock that runs outreach ticks on a server: one APScheduler job, every ``OUTREACH_CHECK_SECONDS``.

The job lives in memory (``MemoryJobStore``) on purpose. What must survive a restart is
the ``outreach`` rows, not the job: APScheduler 3.x says a job store must never be shared
between schedulers, and several servers run at once, so each server keeps its own timer
and they share the database's rows and claims instead (``store.py``). A restarted server
simply starts ticking again and finds the rows where they were.

``coalesce`` and ``max_instances=1``: a slow tick (a Rasa turn, Twilio) is never run twice
at once, and ticks missed meanwhile are run once. The jitter spreads servers' ticks apart.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable

from apscheduler.jobstores.memory import MemoryJobStore  # type: ignore[import-untyped]
from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

logger = logging.getLogger(__name__)

JOB_ID = "outreach-tick"
MAX_JITTER_SECONDS = 10


class OutreachScheduler:
    """Starts and stops the tick job on the running asyncio loop; safe to start or stop twice."""

    def __init__(self, every_seconds: float) -> None:
        """``every_seconds``: how often the tick runs (``settings.outreach_check_seconds()``)."""
        self.every_seconds = every_seconds
        self._scheduler: AsyncIOScheduler | None = None

    @property
    def running(self) -> bool:
        """Whether the tick job is scheduled."""
        return self._scheduler is not None and bool(self._scheduler.running)

    def start(self, tick: Callable[[], Awaitable[object]]) -> None:
        """Schedule ``tick`` on the current event loop; a second start keeps the first job.

        ``tick`` must be a coroutine function: APScheduler's asyncio executor awaits only those, and
        would run anything else (a lambda returning a coroutine) in a thread and drop its coroutine.
        """
        if not inspect.iscoroutinefunction(tick):
            raise TypeError("the outreach tick must be an async function (a coroutine function)")
        if self.running:
            return
        scheduler = AsyncIOScheduler(jobstores={"default": MemoryJobStore()}, timezone="UTC")
        scheduler.add_job(
            tick,
            IntervalTrigger(seconds=self.every_seconds, jitter=min(MAX_JITTER_SECONDS, self.every_seconds / 4)),
            id=JOB_ID,
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )
        scheduler.start()
        self._scheduler = scheduler
        logger.info("outreach: checking every %g s for reminders and copies to send", self.every_seconds)

    def stop(self) -> None:
        """Remove the job and stop the scheduler without waiting for a running tick."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.remove_all_jobs()
            scheduler.shutdown(wait=False)

    def jobs(self) -> int:
        """How many jobs are scheduled (0 or 1; tests check none leaks)."""
        return len(self._scheduler.get_jobs()) if self._scheduler is not None else 0
