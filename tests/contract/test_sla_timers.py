"""SLA timers: a waiting customer's first-response target warns before it is due
and is breached when it passes, once per due time, on the timeline, in the inbox
row and as pushed events. The fake clock moves; the job runner runs what is due.

An API-channel message is owed an answer within 4 hours of calendar time
(core/sla.py), so its warning comes 15 minutes before (core/sla_clock.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from tests.realtime.test_realtime_handlers import pushed
from tests.support.factories import (
    make_agent,
    make_api_inbox,
    make_email_inbox,
    timeline,
)
from tests.support.inbox import change, email, reply, row, write

from threadline.actions.conversation_merge import merge_conversations
from threadline.actions.sla_clock import SLA_JOB, fire_timer
from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.core.events import SlaBreached
from threadline.core.model import ConversationStatus
from threadline.core.sla_clock import ClockKind, Step
from threadline.storage.tables import jobs

pytestmark = pytest.mark.anyio

TARGET = timedelta(hours=4)
WARN = TARGET - timedelta(minutes=15)


async def _sla_entries(c: Container, cid: int) -> list[tuple[str, dict[str, Any]]]:
    found = await row(c, cid, 1)
    assert found is not None
    return [
        (e["kind"], e["data"])
        for e in await timeline(c, found["customer_id"])
        if e["kind"] in ("sla_warning", "sla_breached") and e["conversation_id"] == cid
    ]


async def _badge(c: Container, cid: int) -> tuple[str | None, datetime | None]:
    found = await row(c, cid, 1)
    assert found is not None
    return found["sla_state"], found["sla_due_at"]


async def _queued_timers(c: Container) -> int:
    n: int = await c.db.read(
        lambda conn: conn.execute(
            sa.select(sa.func.count()).where(jobs.c.kind == SLA_JOB, jobs.c.status == "queued")
        ).scalar_one()
    )
    return n


async def _waiting(c: Container) -> tuple[int, datetime]:
    inbox = await make_api_inbox(c)
    out = await write(c, inbox, "ana", "My card was charged twice")
    assert out.conversation_id is not None
    return out.conversation_id, c.clock.now() + TARGET


async def test_a_waiting_customer_is_warned_about_then_breached_on_the_timeline_and_the_row(
    container: Container, clock: FakeClock
) -> None:
    c = container
    cid, due = await _waiting(c)
    assert await _badge(c, cid) == ("running", due)
    assert await _queued_timers(c) == 2

    clock.advance(WARN - timedelta(seconds=1))
    assert await c.runner.run_due() == 0
    clock.advance(seconds=1)
    async with c.broker.listen() as deliveries:
        assert await c.runner.run_due() == 1
        got = await pushed(deliveries)
    assert await _badge(c, cid) == ("warning", due)
    assert await _sla_entries(c, cid) == [
        (
            "sla_warning",
            {
                "clock": "first_response",
                "due_at": due.isoformat(),
                "at": (due - timedelta(minutes=15)).isoformat(),
            },
        )
    ]
    assert (
        "inbox",
        {"type": "row", "conversation_id": cid, "new_conversation": False, "changes": ["sla"]},
    ) in got
    assert any(t == f"conversation:{cid}" and d["type"] == "entry" for t, d in got)

    clock.advance(minutes=15)
    assert await c.runner.run_due() == 1
    assert await _badge(c, cid) == ("breached", due)
    assert [k for k, _ in await _sla_entries(c, cid)] == ["sla_warning", "sla_breached"]
    assert await c.runner.run_due() == 0


async def test_an_answer_before_the_warning_stops_the_clock_and_leaves_no_timers(
    container: Container, clock: FakeClock
) -> None:
    c = container
    cid, _ = await _waiting(c)
    sam, _ = await make_agent(c)
    clock.advance(hours=1)
    await reply(c, cid, sam, "Refunded the second charge.")
    assert await _badge(c, cid) == (None, None)
    assert await _queued_timers(c) == 0  # cancelled, not left to pile up
    clock.advance(hours=5)
    assert await c.runner.run_due() == 0
    assert await _sla_entries(c, cid) == []


async def test_a_note_or_a_second_message_leaves_the_clock_as_it_was(
    container: Container, clock: FakeClock
) -> None:
    c = container
    cid, due = await _waiting(c)
    sam, _ = await make_agent(c)
    inbox = (await row(c, cid, sam) or {})["inbox_id"]
    clock.advance(minutes=30)
    await reply(c, cid, sam, "checking with billing", note=True)
    await write(c, inbox, "ana", "Hello??")
    assert await _badge(c, cid) == ("running", due)
    assert await _queued_timers(c) == 2


async def test_resolving_after_the_warning_stops_the_breach(
    container: Container, clock: FakeClock
) -> None:
    c = container
    cid, _ = await _waiting(c)
    sam, _ = await make_agent(c)
    clock.advance(WARN)
    assert await c.runner.run_due() == 1
    await change(c, cid, sam, status=ConversationStatus.RESOLVED)
    assert await _badge(c, cid) == (None, None)
    clock.advance(hours=1)
    assert await c.runner.run_due() == 0
    assert [k for k, _ in await _sla_entries(c, cid)] == ["sla_warning"]


async def test_a_new_wait_after_an_answer_starts_a_new_clock_and_the_old_timers_stay_silent(
    container: Container, clock: FakeClock
) -> None:
    c = container
    cid, first_due = await _waiting(c)
    sam, _ = await make_agent(c)
    inbox = (await row(c, cid, sam) or {})["inbox_id"]
    clock.advance(hours=1)
    await reply(c, cid, sam, "Looking into it")
    clock.advance(hours=1)
    await write(c, inbox, "ana", "Any news?")
    second_due = clock.now() + TARGET
    assert await _badge(c, cid) == ("running", second_due)
    clock.set(first_due + timedelta(seconds=1))  # the first wait's due time passes
    assert await c.runner.run_due() == 0
    clock.set(second_due)
    assert await c.runner.run_due() == 2  # its warning and breach, both due now
    # Both timers were due at once (a runner that was down): only the breach is told,
    # and it is the next-response target's (the first response was given).
    assert await _sla_entries(c, cid) == [
        (
            "sla_breached",
            {
                "clock": "next_response",
                "due_at": second_due.isoformat(),
                "at": second_due.isoformat(),
            },
        )
    ]


async def test_a_timer_that_runs_twice_records_once(container: Container, clock: FakeClock) -> None:
    """A lost completion: the job runs again after its lease; the step is taken once."""
    c = container
    cid, due = await _waiting(c)
    clock.set(due)

    def fire(tx: Any) -> Any:
        return fire_timer(
            tx, conversation_id=cid, kind=ClockKind.FIRST_RESPONSE, due_at=due, step=Step.BREACH
        )

    first = await c.bus.execute(fire)
    assert first == SlaBreached(cid, "first_response", due, due)
    assert await c.bus.execute(fire) is None
    assert await c.runner.run_due() == 2  # its jobs (warn, breach) find nothing left to do
    assert [k for k, _ in await _sla_entries(c, cid)] == ["sla_breached"]


async def test_a_stale_due_time_fires_nothing(container: Container, clock: FakeClock) -> None:
    c = container
    cid, due = await _waiting(c)
    clock.set(due)
    stale = due - timedelta(minutes=1)
    for step in Step:
        assert (
            await c.bus.execute(
                lambda tx, step=step: fire_timer(
                    tx, conversation_id=cid, kind=ClockKind.FIRST_RESPONSE, due_at=stale, step=step
                )
            )
            is None
        )
    assert await _sla_entries(c, cid) == []
    assert await _badge(c, cid) == ("running", due)


async def test_merging_moves_the_clock_to_the_earlier_due_time_and_silences_the_source(
    container: Container, clock: FakeClock
) -> None:
    c = container
    sam, _ = await make_agent(c)
    inbox = await make_email_inbox(c)  # no hours: always open, 4 h of calendar time
    early = await email(c, inbox, "Card charged twice", "Hello?")
    early_due = clock.now() + TARGET
    clock.advance(minutes=10)
    late = await email(c, inbox, "Also: change my address", "Hello?")  # a new subject, a new matter
    late_due = clock.now() + TARGET
    assert await _badge(c, late) == ("running", late_due)

    await c.bus.execute(
        lambda tx: merge_conversations(tx, source_id=early, target_id=late, actor_id=sam)
    )
    # The customer has waited since the earlier message: the target is due then.
    assert await _badge(c, early) == (None, None)
    assert await _badge(c, late) == ("running", early_due)
    # The moved first-response clock's two and the target's resolution clock's two
    # (48 h for email); the source's are cancelled.
    assert await _queued_timers(c) == 4

    clock.set(early_due - timedelta(minutes=15))
    assert await c.runner.run_due() == 1
    clock.set(early_due)
    assert await c.runner.run_due() == 1
    clock.set(late_due + timedelta(minutes=1))
    assert await c.runner.run_due() == 0
    assert await _sla_entries(c, early) == []
    assert [(k, d["due_at"]) for k, d in await _sla_entries(c, late)] == [
        ("sla_warning", early_due.isoformat()),
        ("sla_breached", early_due.isoformat()),
    ]


async def test_pending_on_the_customer_silences_the_timers_and_reopening_moves_them_on(
    container: Container, clock: FakeClock
) -> None:
    c = container
    cid, due = await _waiting(c)
    sam, _ = await make_agent(c)
    clock.advance(hours=1)
    await change(c, cid, sam, status=ConversationStatus.PENDING)
    assert await _queued_timers(c) == 0  # every clock paused: no timer may fire
    clock.advance(hours=5)  # past the first response's due time, while pending
    assert await c.runner.run_due() == 0
    assert await _sla_entries(c, cid) == []
    await change(c, cid, sam, status=ConversationStatus.OPEN)
    # The 5 hours pending do not count: the target is due 5 hours later than it was.
    assert await _badge(c, cid) == ("running", due + timedelta(hours=5))
    clock.set(due + timedelta(hours=5))
    await c.runner.run_due()
    assert [k for k, _ in await _sla_entries(c, cid)] == ["sla_breached"]
