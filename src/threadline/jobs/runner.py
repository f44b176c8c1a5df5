"""The job runner: claims due jobs and runs them, in-process or in `threadline worker`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from functools import partial

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
        self.concurrency = concurrency
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
        """Claim due jobs into free slots until ``stop``; each job runs as a task of
        its own. Claiming does not wait for the jobs claimed before (unlike
        ``run_due``): a delivery that hangs on a slow provider for 30 s must not
        hold back a timer due meanwhile (an SLA breach fires within 5 s of its time).
        """
        running: set[asyncio.Task[None]] = set()
        try:
            while not stop.is_set():
                # Cleared before the claim: a wake-up during it claims once more.
                self._wake.clear()
                free = self.concurrency - len(running)
                limit = min(self.batch, free)
                claimed: list[Job] = []
                if free > 0:
                    try:
                        claimed = await self.bus.execute(partial(queue.claim, limit=limit))
                    except Exception:
                        log.exception("jobs.loop_failed")
                for job in claimed:
                    task = asyncio.create_task(self._run(job))
                    running.add(task)
                    task.add_done_callback(lambda t: _finished(t, running))
                if claimed and len(claimed) == limit:
                    continue  # more may be due: claim again before sleeping
                waiters = [
                    asyncio.ensure_future(self._wake.wait()),
                    asyncio.ensure_future(stop.wait()),
                ]
                # A finished job frees a slot: claim again rather than sleep out the poll.
                await asyncio.wait(
                    [*waiters, *running],
                    timeout=await self._until_next() if free > 0 else self.poll_interval,
                    return_when="FIRST_COMPLETED",
                )
                for w in waiters:
                    w.cancel()
        finally:
            # Let the claimed jobs finish (as a stop during run_due did): a job cut
            # off here would only run again when its lease runs out.
            if running:
                await asyncio.gather(*running, return_exceptions=True)

    async def _until_next(self) -> float:
        """Seconds to sleep: to the next queued job's time if that comes before the
        poll interval, so a timer fires on time rather than up to a poll late. A
        job enqueued after this (by another process, or for a time sooner than
        every queued one) waits at most the poll interval, or is woken."""
        try:
            at = await self.bus.db.read_small(queue.next_run_at)
        except Exception:
            log.exception("jobs.next_failed")
            return self.poll_interval
        if at is None:
            return self.poll_interval
        until = (at - self.bus.db.clock.now()).total_seconds()
        # A floor, so a job due but not claimable this instant (another worker
        # holds it) costs a few polls, not a busy loop.
        return min(self.poll_interval, max(until, 0.01))

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


def _finished(task: asyncio.Task[None], running: set[asyncio.Task[None]]) -> None:
    running.discard(task)
    if not task.cancelled() and (exc := task.exception()) is not None:
        # _run records a job's own failure; this is the database failing under it.
        # The job's lease runs out and it is claimed again.
        log.error("job.unfinished", exc_info=exc)
