"""time_passed rules with a fake clock: a sweep finds the conversations a rule waits
on, the rule acts once per state of a conversation, and a change starts it again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support.factories import make_agent, make_api_inbox
from tests.support.inbox import change, reply, write

from threadline.actions.rule_queue import RULES_JOB
from threadline.actions.rule_sweep import SWEEP_JOB, sweep_time_passed
from threadline.actions.rules import create_rule, set_rule_enabled
from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.core.model import ConversationStatus
from threadline.core.rules_sweep import prefilters
from threadline.queries.rules import active_rules
from threadline.storage.tables import conversations, jobs
from threadline.storage.tables import timeline_entries as entries

pytestmark = pytest.mark.anyio

PENDING_72H = {
    "name": "Close the silent",
    "events": ["time_passed"],
    "conditions": [{"status": ["pending"]}, {"hours_in_status": {"at_least": 72}}],
    "actions": [{"set_status": "resolved"}],
}
UNANSWERED_24H = {
    "name": "Nudge",
    "events": ["time_passed"],
    "conditions": [{"status": ["open"]}, {"hours_since_customer": {"at_least": 24}}],
    "actions": [{"note": "Still waiting for an answer"}],
}


async def add_rule(c: Container, body: dict[str, Any]) -> int:
    return await c.bus.execute(lambda tx: create_rule(tx, body, actor_id=None))


async def status(c: Container, cid: int) -> str:
    q = sa.select(conversations.c.status).where(conversations.c.id == cid)
    return str(await c.db.read(lambda conn: conn.execute(q).scalar_one()))


async def applied(c: Container, cid: int) -> list[str]:
    q = (
        sa.select(entries.c.data)
        .where(entries.c.conversation_id == cid, entries.c.kind == "rule_applied")
        .order_by(entries.c.id)
    )
    return [
        f"{d['rule']}: {d['did']}" for d in await c.db.read(lambda conn: conn.execute(q).scalars())
    ]


async def time_passed_runs(c: Container, cid: int) -> int:
    q = sa.select(sa.func.count()).where(
        jobs.c.kind == RULES_JOB, jobs.c.idempotency_key.like(f"time_passed:{cid}:%")
    )
    return int(await c.db.read(lambda conn: conn.execute(q).scalar_one()))


async def pending_conversation(c: Container, inbox: int, agent: int, who: str) -> int:
    out = await write(c, inbox, who, "my order is late")
    assert out.conversation_id is not None
    await reply(c, out.conversation_id, agent, "Could you send the order number?")
    await change(c, out.conversation_id, agent, status=ConversationStatus.PENDING)
    return out.conversation_id


async def test_pending_for_72_hours_resolves_then_and_not_before(
    container: Container, clock: FakeClock
) -> None:
    c = container
    inbox = await make_api_inbox(c)
    sam, _ = await make_agent(c)
    pending = await pending_conversation(c, inbox, sam, "ana")
    untouched = (await write(c, inbox, "bob", "hello")).conversation_id
    assert untouched is not None
    await add_rule(c, PENDING_72H)
    await c.runner.run_due()
    clock.advance(hours=71, minutes=58)
    await c.runner.run_due()
    assert await status(c, pending) == "pending"
    clock.advance(minutes=3)
    await c.runner.run_due()
    assert await status(c, pending) == "resolved"
    assert await applied(c, pending) == ["Close the silent: set the status to resolved"]
    # an open conversation as old as the pending one is not the rule's
    assert await status(c, untouched) == "open"
    assert await applied(c, untouched) == []
    assert await time_passed_runs(c, untouched) == 0


async def test_a_rule_fires_once_and_again_only_after_the_customer_writes(
    container: Container, clock: FakeClock
) -> None:
    c = container
    inbox = await make_api_inbox(c)
    out = await write(c, inbox, "ana", "anyone there?")
    cid = out.conversation_id
    assert cid is not None
    await add_rule(c, UNANSWERED_24H)
    clock.advance(hours=24, minutes=1)
    await c.runner.run_due()
    assert await applied(c, cid) == ["Nudge: added an internal note"]
    runs = await time_passed_runs(c, cid)
    for _ in range(3):  # sweeps go on for days: the rule holds, but it already acted
        clock.advance(hours=12)
        await c.runner.run_due()
    assert await applied(c, cid) == ["Nudge: added an internal note"]
    assert await time_passed_runs(c, cid) == runs  # and no run is even queued for it
    await write(c, inbox, "ana", "hello???")
    clock.advance(hours=23)
    await c.runner.run_due()
    assert len(await applied(c, cid)) == 1  # counted from the new message
    clock.advance(hours=1, minutes=1)
    await c.runner.run_due()
    assert await applied(c, cid) == ["Nudge: added an internal note"] * 2


async def test_an_agent_reply_or_a_status_change_is_a_new_state_too(
    container: Container, clock: FakeClock
) -> None:
    c = container
    inbox = await make_api_inbox(c)
    sam, _ = await make_agent(c)
    cid = await pending_conversation(c, inbox, sam, "ana")
    await add_rule(
        c,
        {
            "name": "Chase",
            "events": ["time_passed"],
            "conditions": [{"hours_since_agent": {"at_least": 48}}],
            "actions": [{"add_tag": "chased"}, {"note": "Chase the customer"}],
        },
    )
    clock.advance(hours=48, minutes=1)
    await c.runner.run_due()
    assert len(await applied(c, cid)) == 2  # both actions, once
    clock.advance(hours=1)
    await c.runner.run_due()
    assert len(await applied(c, cid)) == 2
    await change(c, cid, sam, status=ConversationStatus.OPEN)  # a status change: a new state
    clock.advance(hours=1)
    await c.runner.run_due()
    assert len(await applied(c, cid)) == 4  # still 48 h since the agent: it acts again
    clock.advance(hours=1)
    await reply(c, cid, sam, "Any news?")
    clock.advance(hours=47)
    await c.runner.run_due()
    assert len(await applied(c, cid)) == 4
    clock.advance(hours=1, minutes=1)
    await c.runner.run_due()
    assert len(await applied(c, cid)) == 6


async def test_a_sweep_reads_at_most_its_batch_and_continues_after_it(
    container: Container, clock: FakeClock
) -> None:
    c = container
    inbox = await make_api_inbox(c)
    sam, _ = await make_agent(c)
    ids = [await pending_conversation(c, inbox, sam, who) for who in ("ana", "bob", "cy")]
    clock.advance(hours=73)
    await add_rule(c, PENDING_72H)
    filters = prefilters(await c.db.read(active_rules))
    queued = await c.bus.execute(
        lambda tx: sweep_time_passed(
            tx, filters, after=0, batch=2, every=timedelta(minutes=1), pass_="p1"
        )
    )
    assert queued == ids[:2]
    q = sa.select(jobs.c.payload).where(jobs.c.kind == SWEEP_JOB, jobs.c.status == "queued")
    payloads = await c.db.read(lambda conn: list(conn.execute(q).scalars()))
    assert {"pass": "p1", "after": ids[1]} in payloads
    await c.runner.run_due()
    assert [await status(c, i) for i in ids] == ["resolved"] * 3


async def test_without_a_time_passed_rule_on_the_sweeps_stop(
    container: Container, clock: FakeClock
) -> None:
    c = container
    rule = await add_rule(c, PENDING_72H)
    await c.runner.run_due()
    q = sa.select(sa.func.count()).where(jobs.c.kind == SWEEP_JOB, jobs.c.status == "queued")
    assert await c.db.read(lambda conn: conn.execute(q).scalar_one()) == 1  # the next one
    await c.bus.execute(lambda tx: set_rule_enabled(tx, rule, False, actor_id=None))
    clock.advance(minutes=2)
    await c.runner.run_due()
    assert await c.db.read(lambda conn: conn.execute(q).scalar_one()) == 0
