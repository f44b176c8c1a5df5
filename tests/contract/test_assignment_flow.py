"""Automatic assignment end to end: a customer writes, the job assigns, the timeline
says who and why; nobody available waits in the queue until the sweep finds someone.
The fake clock moves; the job runner runs what is due."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from tests.support.assignment import (
    agent,
    assignee,
    chat,
    chat_inbox,
    configure_inbox,
    online,
    queued_reason,
    write,
)
from tests.support.factories import (
    deliver_email,
    make_api_inbox,
    make_email,
    make_email_inbox,
    make_team,
    timeline,
)
from tests.support.inbox import change

from threadline.actions.assignment import ASSIGN_JOB, escalate
from threadline.actions.assignment_queue import SWEEP_JOB
from threadline.actions.errors import ActionError
from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.core.model import ConversationStatus
from threadline.storage.tables import assignment_queue, conversations, jobs

pytestmark = pytest.mark.anyio

RESOLVED = ConversationStatus.RESOLVED


async def _customer(c: Container, conversation_id: int) -> int:
    return await c.db.read(
        lambda conn: conn.execute(
            sa.select(conversations.c.customer_id).where(conversations.c.id == conversation_id)
        ).scalar_one()
    )


async def _entries(c: Container, conversation_id: int, *kinds: str) -> list[dict[str, object]]:
    return [
        e["data"]
        for e in await timeline(c, await _customer(c, conversation_id))
        if e["kind"] in kinds and e["conversation_id"] == conversation_id
    ]


async def _sweep(c: Container, clock: FakeClock) -> None:
    clock.advance(seconds=30)
    await c.runner.run_due()


async def test_round_robin_alternates_and_the_timeline_says_why(container: Container) -> None:
    c = container
    inbox = await make_api_inbox(c)
    ana, ben = await agent(c, "Ana"), await agent(c, "Ben")
    await configure_inbox(c, inbox, "round_robin")
    first = (await write(c, inbox, "x")).conversation_id
    await c.runner.run_due()
    second = (await write(c, inbox, "y")).conversation_id
    await c.runner.run_due()
    assert first is not None
    assert second is not None
    # Neither is online: the API channel is not real-time, so that does not matter.
    assert [await assignee(c, first), await assignee(c, second)] == [ana, ben]
    assert await _entries(c, first, "assigned") == [
        {"from": None, "to": ana, "by": None, "reason": "round robin: Ana (1/20 api conversations)"}
    ]
    assert await queued_reason(c, first) is None


async def test_an_inbox_assigned_by_hand_queues_nothing(container: Container) -> None:
    c = container
    inbox = await make_api_inbox(c)
    await agent(c, "Ana")
    out = await write(c, inbox, "x")
    assert out.conversation_id is not None
    assert await queued_reason(c, out.conversation_id) is None
    kinds = await c.db.read(lambda conn: list(conn.execute(sa.select(jobs.c.kind)).scalars()))
    assert "assign" not in kinds


async def test_a_chat_waits_for_an_online_agent_then_the_sweep_assigns_it(
    container: Container, clock: FakeClock
) -> None:
    c = container
    inbox = await chat_inbox(c)
    ana = await agent(c, "Ana")
    await configure_inbox(c, inbox, "load_balanced")
    cid = await chat(c, inbox)
    await c.runner.run_due()
    waiting = "nobody available: nobody on shift is online for chat"
    assert await assignee(c, cid) is None
    assert await queued_reason(c, cid) == waiting
    await _sweep(c, clock)  # tried again, same reason: the timeline hears it once
    assert await _entries(c, cid, "assignment_waiting") == [{"reason": waiting}]
    await online(c, ana)
    await _sweep(c, clock)
    assert await assignee(c, cid) == ana
    assert (await _entries(c, cid, "assigned"))[0]["reason"] == "least loaded: Ana (1/3 chats)"


async def test_capacity_holds_a_chat_until_one_is_resolved(container: Container) -> None:
    c = container
    inbox = await chat_inbox(c)
    ana = await agent(c, "Ana", capacity={"chat": 1})
    await online(c, ana)
    await configure_inbox(c, inbox, "round_robin")
    chats = [await chat(c, inbox), await chat(c, inbox)]
    await c.runner.run_due()  # both jobs at once: either may be first
    held = [cid for cid in chats if await assignee(c, cid) == ana]
    assert len(held) == 1
    (waiting,) = set(chats) - set(held)
    assert await assignee(c, waiting) is None
    assert await queued_reason(c, waiting) == "nobody available: all at capacity"
    await change(c, held[0], ana, status=RESOLVED)
    await c.runner.run_due()  # at once: resolving freed Ana, no need to wait for a sweep
    assert await assignee(c, waiting) == ana


async def test_a_returning_customer_goes_back_to_their_agent(container: Container) -> None:
    c = container
    inbox = await make_api_inbox(c)
    ana, _ben = await agent(c, "Ana"), await agent(c, "Ben")
    await configure_inbox(c, inbox, "round_robin")
    first = (await write(c, inbox, "maria")).conversation_id
    await c.runner.run_due()
    assert first is not None
    assert await assignee(c, first) == ana
    await change(c, first, ana, status=RESOLVED)
    # Resolved long ago, past the reopen window: her next message starts a new
    # conversation. Ben is next in the rotation, yet Ana wins.
    await c.db.write(
        lambda tx: tx.conn.execute(
            conversations.update()
            .where(conversations.c.id == first)
            .values(resolved_at=tx.now - timedelta(days=60))
        )
    )
    second = (await write(c, inbox, "maria")).conversation_id
    await c.runner.run_due()
    assert second is not None
    assert second != first
    assert await assignee(c, second) == ana
    assert (await _entries(c, second, "assigned"))[0]["reason"] == (
        "returning customer: Ana (1/20 api conversations)"
    )


async def test_a_reopened_conversation_without_an_assignee_is_queued_again(
    container: Container,
) -> None:
    c = container
    inbox = await make_api_inbox(c)
    ana = await agent(c, "Ana")
    await configure_inbox(c, inbox, "round_robin")
    cid = (await write(c, inbox, "x")).conversation_id
    assert cid is not None
    await c.runner.run_due()
    await change(c, cid, ana, status=RESOLVED, unassign=True)
    again = (await write(c, inbox, "x", "one more thing")).conversation_id
    assert again == cid
    await c.runner.run_due()
    assert await assignee(c, cid) == ana


async def test_an_agent_off_shift_gets_nothing(container: Container) -> None:
    c = container
    inbox = await make_api_inbox(c)
    # The clock starts on a Monday at 09:00 UTC; Ana works weekends only.
    weekend = {
        "timezone": "UTC",
        "spans": [{"days": ["sat", "sun"], "start": "08:00", "end": "20:00", "channels": ["api"]}],
    }
    await agent(c, "Ana", shifts=weekend)
    ben = await agent(c, "Ben")
    await configure_inbox(c, inbox, "round_robin")
    cid = (await write(c, inbox, "x")).conversation_id
    assert cid is not None
    await c.runner.run_due()
    assert await assignee(c, cid) == ben


async def test_batched_email_becomes_due_at_the_batch_time(
    container: Container, clock: FakeClock
) -> None:
    c = container
    inbox = await make_email_inbox(c)
    ana = await agent(c, "Ana")
    await configure_inbox(c, inbox, "round_robin", batch_times=["13:00"], batch_timezone="UTC")
    raw, _ = make_email()
    out = await deliver_email(c, inbox, raw)
    cid = out.conversation_id
    assert cid is not None
    await c.runner.run_due()
    assert await assignee(c, cid) is None
    assert await queued_reason(c, cid) == ""  # queued, not yet due
    clock.advance(hours=4)  # 13:00
    await c.runner.run_due()
    assert await assignee(c, cid) == ana


async def test_escalation_reassigns_within_the_level_2_team(container: Container) -> None:
    c = container
    inbox = await make_api_inbox(c)
    ana, ben = await agent(c, "Ana"), await agent(c, "Ben")
    experts = await make_team(c, "Experts", members=[ben], inboxes=[inbox])
    await configure_inbox(c, inbox, "round_robin", level2_team_id=experts)
    cid = (await write(c, inbox, "x")).conversation_id
    assert cid is not None
    await c.runner.run_due()
    assert await assignee(c, cid) == ana
    await c.bus.execute(lambda tx: escalate(tx, cid, actor_id=ana))
    await c.runner.run_due()
    assert await assignee(c, cid) == ben
    reasons = [e.get("reason") for e in await _entries(c, cid, "assigned")]
    assert reasons == [
        "round robin: Ana (1/20 api conversations)",
        None,  # Ana's escalation took it off her
        "level 2: round robin: Ben (1/20 api conversations)",
    ]
    assert await _entries(c, cid, "escalation_changed") == [{"from": 1, "to": 2, "by": ana}]
    with pytest.raises(ActionError, match="already at level 2"):
        await c.bus.execute(lambda tx: escalate(tx, cid, actor_id=ana))


async def test_escalation_needs_a_level_2_team(container: Container) -> None:
    c = container
    inbox = await make_api_inbox(c)
    await configure_inbox(c, inbox, "round_robin")
    cid = (await write(c, inbox, "x")).conversation_id
    assert cid is not None
    with pytest.raises(ActionError, match="no level-2 team"):
        await c.bus.execute(lambda tx: escalate(tx, cid, actor_id=None))


async def test_the_sweep_stops_when_nobody_waits(container: Container, clock: FakeClock) -> None:
    c = container
    inbox = await make_api_inbox(c)
    await agent(c, "Ana")
    await configure_inbox(c, inbox, "round_robin")
    await write(c, inbox, "x")
    await c.runner.run_due()
    for _ in range(3):
        await _sweep(c, clock)

    def pending(conn: sa.Connection) -> list[str]:
        # The assignment's own jobs (the conversation's SLA timers keep running)
        q = sa.select(jobs.c.kind).where(
            jobs.c.status == "queued", jobs.c.kind.in_([ASSIGN_JOB, SWEEP_JOB])
        )
        return list(conn.execute(q).scalars())

    assert await c.db.read(pending) == []
    assert (
        await c.db.read(
            lambda conn: conn.execute(
                sa.select(sa.func.count()).select_from(assignment_queue)
            ).scalar()
        )
        == 0
    )


async def test_without_sticky_a_returning_customer_takes_their_turn(
    container: Container,
) -> None:
    c = container
    inbox = await make_api_inbox(c)
    ana, ben = await agent(c, "Ana"), await agent(c, "Ben")
    await configure_inbox(c, inbox, "round_robin", sticky=False)
    first = (await write(c, inbox, "maria")).conversation_id
    assert first is not None
    await c.runner.run_due()
    await change(c, first, ana, status=RESOLVED)
    await c.db.write(
        lambda tx: tx.conn.execute(
            conversations.update()
            .where(conversations.c.id == first)
            .values(resolved_at=tx.now - timedelta(days=60))
        )
    )
    second = (await write(c, inbox, "maria")).conversation_id
    assert second is not None
    await c.runner.run_due()
    assert await assignee(c, second) == ben


async def test_an_inbox_that_needs_a_skill_goes_only_to_agents_who_have_it(
    container: Container,
) -> None:
    c = container
    inbox = await make_api_inbox(c)
    await agent(c, "Ana", skills=["french"])
    ben = await agent(c, "Ben", skills=["french", "german"])
    await configure_inbox(c, inbox, "round_robin", skills=["german"])
    first = (await write(c, inbox, "x")).conversation_id
    await c.runner.run_due()
    second = (await write(c, inbox, "y")).conversation_id
    await c.runner.run_due()
    assert first is not None
    assert second is not None
    assert [await assignee(c, first), await assignee(c, second)] == [ben, ben]


async def test_a_waiting_conversation_taken_by_hand_or_resolved_leaves_the_queue(
    container: Container, clock: FakeClock
) -> None:
    c = container
    inbox = await chat_inbox(c)
    ana = await agent(c, "Ana")
    await configure_inbox(c, inbox, "round_robin")
    taken, closed = await chat(c, inbox), await chat(c, inbox)
    await c.runner.run_due()
    assert await queued_reason(c, taken) is not None
    assert await queued_reason(c, closed) is not None
    await change(c, taken, ana, assignee_id=ana)
    await change(c, closed, ana, status=RESOLVED)
    await online(c, ana)
    await _sweep(c, clock)
    assert await queued_reason(c, taken) is None
    assert await queued_reason(c, closed) is None
    assert await assignee(c, closed) is None  # a resolved chat is nobody's work
    # Taken by hand: one assignment on the timeline, Ana's own, with no reason.
    assert await _entries(c, taken, "assigned") == [{"from": None, "to": ana, "by": ana}]
