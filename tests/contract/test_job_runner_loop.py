"""The job runner's loop (``run``, what `threadline serve` and `worker` run): a job
that hangs does not hold back one due after it, and a timer runs at its time,
not up to a poll interval later."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from threadline.bootstrap import bootstrap
from threadline.clock import SystemClock
from threadline.jobs.queue import Job, enqueue
from threadline.jobs.runner import JobRunner
from threadline.settings import Settings

pytestmark = pytest.mark.anyio


async def test_a_hanging_job_does_not_hold_back_a_timer_due_while_it_runs(
    settings: Settings,
) -> None:
    clock = SystemClock()
    c = bootstrap(settings, clock=clock)
    await c.start(jobs=False)
    release = asyncio.Event()
    ran: dict[str, datetime] = {}

    async def hang(job: Job) -> None:  # a provider that does not answer
        ran["hang"] = clock.now()
        await release.wait()

    async def timer(job: Job) -> None:
        ran["timer"] = clock.now()

    # A long poll: only the loop's own wake-up for the next timer can be on time.
    runner = JobRunner(c.bus, {"hang": hang, "timer": timer}, poll_interval=30.0)
    stop = asyncio.Event()
    loop = asyncio.create_task(runner.run(stop))
    try:
        await c.bus.execute(lambda tx: enqueue(tx, "hang", {}))
        runner.wake()
        async with asyncio.timeout(5):
            while "hang" not in ran:
                await asyncio.sleep(0.01)
        due = clock.now() + timedelta(seconds=1)
        await c.bus.execute(lambda tx: enqueue(tx, "timer", {}, run_at=due))
        runner.wake()  # as the bus's handlers do after an action that enqueues
        async with asyncio.timeout(5):
            while "timer" not in ran:
                await asyncio.sleep(0.01)
        late = ran["timer"] - due
        print(f"\ntimer ran {late.total_seconds():.3f} s after its time, beside a hanging job")
        assert timedelta(0) <= late <= timedelta(seconds=5)
        assert not release.is_set()  # the hanging job was still running all along
    finally:
        release.set()
        stop.set()
        await loop
        await c.aclose()
