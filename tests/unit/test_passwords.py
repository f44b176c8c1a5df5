"""Password checks run at a low CPU priority, so a sign-in flood cannot starve ingest."""

from __future__ import annotations

import os
import sys
import threading

import anyio
import pytest

from threadline.passwords import Passwords


@pytest.mark.anyio
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
async def test_password_checks_run_below_the_servers_priority() -> None:
    passwords = Passwords(time_cost=1, memory_kib=8, parallelism=1)

    def own_priority(_: str) -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    here = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    there = await passwords._run(own_priority, "x")
    assert there > here
    assert await passwords.verify(await passwords.hash("right"), "right")
    assert not await passwords.verify(await passwords.hash("right"), "wrong")


@pytest.mark.anyio
async def test_a_saturated_hasher_says_so_before_anyone_waits() -> None:
    passwords = Passwords(time_cost=1, memory_kib=8, parallelism=1, concurrency=1, queue=0)
    assert not passwords.saturated()
    release = threading.Event()

    def hold(_: str) -> bool:
        release.wait(5)
        return True

    async with anyio.create_task_group() as tg:
        tg.start_soon(passwords._run, hold, "x")
        await anyio.sleep(0.05)
        while passwords._limiter is None or passwords._limiter.borrowed_tokens == 0:
            await anyio.sleep(0.01)
        assert passwords.saturated()
        release.set()
    assert not passwords.saturated()
