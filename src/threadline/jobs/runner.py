"""The job runner: claims due jobs and runs them, in-process or in `threadline worker`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import structlog

from threadline.bus import Bus
from threadline.jobs import queue
from threadline.jobs.queue import Job

__all__ = ["JobFailed", "JobRunner"]

log = structlog.get_logger(__name__)


class JobFailed(Exception):
    """Raised by a job to stop retrying: the failure is permanent."""


JobHandler = Callable[[Job], Awaitable[None]]
OnGiveUp = Callable[[Job, str], Awaitable[None]]


class JobRunner:
    def __init__(
        self,
        bus: Bus,
        handlers: Mapping[str, JobHandler],
        *,
        on_give_up: Mapping[str, OnGiveUp] | None = None,
        batch: int = 20,
        concurrency: int = 8,
        poll_interval: float = 1.0,
    ) -> None:
        self.bus = bus
        self.handlers = handlers
        self.on_give_up = on_give_up or {}
        self.batch = batch
        self.poll_interval = poll_interval
        self._sem = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run_due(self) -> int:
        """Run every job due now; returns how many ran. Tests call this directly."""
        total = 0
        while True:
            jobs = await self.bus.execute(lambda tx: queue.claim(tx, limit=self.batch))
            if not jobs:
                return total
            await asyncio.gather(*(self._run(job) for job in jobs))
            total += len(jobs)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_due()
            except Exception:
                log.exception("jobs.loop_failed")
            self._wake.clear()
            waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waiters, timeout=self.poll_interval, return_when="FIRST_COMPLETED")
            for w in waiters:
                w.cancel()

    async def _run(self, job: Job) -> None:
        handler = self.handlers.get(job.kind)
        async with self._sem:
            try:
                if handler is None:
                    raise JobFailed(f"no handler for job kind {job.kind!r}")
                await handler(job)
            except JobFailed as exc:
                await self._give_up(job, str(exc))
            except Exception as exc:
                reason = str(exc) or type(exc).__name__
                if job.attempts >= job.max_attempts:
                    await self._give_up(job, reason)
                else:
                    log.warning("job.retry", job=job.id, kind=job.kind, error=reason)
                    await self.bus.execute(lambda tx: queue.retry_later(tx, job, reason))
            else:
                await self.bus.execute(lambda tx: queue.complete(tx, job.id))

    async def _give_up(self, job: Job, reason: str) -> None:
        log.warning("job.failed", job=job.id, kind=job.kind, error=reason)
        await self.bus.execute(lambda tx: queue.fail(tx, job.id, reason))
        hook = self.on_give_up.get(job.kind)
        if hook is not None:
            await hook(job, reason)
