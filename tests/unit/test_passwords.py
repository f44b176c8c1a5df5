"""Password checks run at a low CPU priority, so a sign-in flood cannot starve ingest."""

from __future__ import annotations

import os
import sys
import threading

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
