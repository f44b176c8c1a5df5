"""SLA timers under the real job runner loop: on a real clock with a target of a
few seconds, and across a restart of the process that runs them.

Issue 9: "warnings and breaches fire as events within 5 seconds of their due
time (durable timers in the job table, surviving restarts)". The lateness is
measured and printed; only the issue's 5 s bound is asserted.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from tests.support.factories import make_api_inbox, timeline
from tests.support.inbox import row, write

from threadline.actions.sla_clock import set_clock
from threadline.bootstrap import Container, bootstrap
from threadline.clock import FakeClock, SystemClock
from threadline.core.sla_clock import ClockKind
from threadline.settings import Settings
from threadline.storage.migrate import downgrade, upgrade

pytestmark = pytest.mark.anyio

BOUND = timedelta(seconds=5)  # the promise


async def _sla_entries(c: Container, cid: int) -> list[dict[str, Any]]:
    found = await row(c, cid, 1)
    assert found is not None
    return [
        e
        for e in await timeline(c, found["customer_id"])
        if e["kind"] in ("sla_warning", "sla_breached") and e["conversation_id"] == cid
    ]


async def test_a_target_of_3_s_warns_and_breaches_within_5_s_under_a_real_clock(
    settings: Settings,
) -> None:
    clock = SystemClock()
    c = bootstrap(settings, clock=clock)
    await c.start(jobs=True, mailboxes=False)
    try:
        inbox = await make_api_inbox(c)
        out = await write(c, inbox, "ana", "Is anyone there?")
        cid = out.conversation_id
        assert cid is not None
        # The channel's target is hours; a policy with a short one sets the clock
        # the way every caller does: due 3 s from now, so it warns after 2.25 s.
        due = clock.now() + timedelta(seconds=3)
        await c.bus.execute(
            lambda tx: set_clock(tx, cid, ClockKind.FIRST_RESPONSE, started_at=tx.now, due_at=due)
        )
        found = await row(c, cid, 1)
        assert found is not None
        assert found["sla_due_at"] == due
        warn_at = due - timedelta(seconds=0.75)

        arrived: list[tuple[str, Any]] = []
        async with c.broker.listen() as deliveries:
            async with asyncio.timeout((due - clock.now() + BOUND * 2).total_seconds()):
                while len(arrived) < 2:
                    d = await anext(deliveries)
                    if d.topic == "inbox" and d.data.get("changes") == ["sla"]:
                        arrived.append((d.topic, clock.now()))
    finally:
        await c.aclose()

    c = bootstrap(settings, clock=clock)
    await c.start(jobs=False)
    try:
        entries = await _sla_entries(c, cid)
    finally:
        await c.aclose()
    assert [e["kind"] for e in entries] == ["sla_warning", "sla_breached"]
    warned, breached = entries
    late_warn = warned["created_at"] - warn_at
    late_breach = breached["created_at"] - due
    pushed_late = [at - when for (_, at), when in zip(arrived, (warn_at, due), strict=True)]
    print(
        f"\nSLA timer lateness: warning {late_warn.total_seconds():.3f} s, "
        f"breach {late_breach.total_seconds():.3f} s; pushed "
        f"{pushed_late[0].total_seconds():.3f} s and {pushed_late[1].total_seconds():.3f} s "
        "after their times"
    )
    assert timedelta(0) <= late_warn <= BOUND
    assert timedelta(0) <= late_breach <= BOUND
    assert all(late <= BOUND for late in pushed_late)


async def test_timers_due_while_the_runner_was_down_fire_once_after_a_restart(
    settings: Settings,
) -> None:
    clock = FakeClock()
    first = bootstrap(settings, clock=clock)
    await first.start(jobs=True, mailboxes=False)
    try:
        inbox = await make_api_inbox(first)
        out = await write(first, inbox, "ana", "Hello?")
        cid = out.conversation_id
        assert cid is not None
        found = await row(first, cid, 1)
        assert found is not None
        due = found["sla_due_at"]
        assert found["sla_state"] == "running"
    finally:
        await first.aclose()  # the process stops before anything is due

    clock.set(due + timedelta(hours=2))  # it stays down past the warning and the breach
    second = bootstrap(settings, clock=clock)
    await second.start(jobs=True, mailboxes=False)
    try:
        async with asyncio.timeout(BOUND.total_seconds()):
            while not await _sla_entries(second, cid):
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # the warning's job, claimed with it, finishes too
    finally:
        await second.aclose()

    third = bootstrap(settings, clock=clock)  # and once more: nothing is left to fire
    await third.start(jobs=False)
    try:
        assert await third.runner.run_due() == 0
        entries = await _sla_entries(third, cid)
        found = await row(third, cid, 1)
    finally:
        await third.aclose()
    assert [(e["kind"], e["data"]["due_at"]) for e in entries] == [
        ("sla_breached", due.isoformat())
    ]
    assert found is not None
    assert found["sla_state"] == "breached"


async def test_the_upgrade_gives_customers_already_waiting_their_timers(
    settings: Settings, database_url: str
) -> None:
    clock = FakeClock()
    before = bootstrap(settings, clock=clock)
    await before.start(jobs=False)
    try:
        inbox = await make_api_inbox(before)
        cid = (await write(before, inbox, "ana", "Hello?")).conversation_id
        assert cid is not None
        found = await row(before, cid, 1)
        assert found is not None
        due = found["sla_due_at"]
    finally:
        await before.aclose()
    # A database from before the timers: its waiting customer has no clock.
    downgrade(database_url, "0011")
    upgrade(database_url)

    after = bootstrap(settings, clock=clock)
    await after.start(jobs=False)
    try:
        found = await row(after, cid, 1)
        assert found is not None
        assert (found["sla_state"], found["sla_due_at"]) == ("running", due)
        clock.set(due - timedelta(minutes=15))
        assert await after.runner.run_due() == 1
        clock.set(due)
        assert await after.runner.run_due() == 1
        entries = await _sla_entries(after, cid)
    finally:
        await after.aclose()
    assert [e["kind"] for e in entries] == ["sla_warning", "sla_breached"]
