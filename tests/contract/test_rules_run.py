"""Rules at work: an event queues a durable job, the job applies each rule's actions
through the ordinary actions, and the timeline says "rule X (vN) did Y"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support.assignment import agent, assignee, configure_inbox
from tests.support.factories import make_agent, make_api_inbox, make_email_inbox, make_team
from tests.support.inbox import write

from threadline.actions.rule_queue import MAX_DEPTH, RULES_JOB
from threadline.actions.rules import create_rule, update_rule
from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.storage.tables import conversation_tags, conversations, jobs, messages
from threadline.storage.tables import timeline_entries as entries
from threadline.web.ui.render import describe

pytestmark = pytest.mark.anyio


async def add_rule(c: Container, actions: list[dict[str, Any]], **extra: Any) -> int:
    body = {"name": "Refunds", "events": ["message_received"], "actions": actions, **extra}
    return await c.bus.execute(lambda tx: create_rule(tx, body, actor_id=None))


async def conversation(c: Container, cid: int) -> Any:
    return await c.db.read(
        lambda conn: conn.execute(sa.select(conversations).where(conversations.c.id == cid)).one()
    )


async def applied(c: Container, cid: int) -> list[dict[str, Any]]:
    rows = await c.db.read(
        lambda conn: conn.execute(
            sa.select(entries.c.data)
            .where(entries.c.conversation_id == cid, entries.c.kind == "rule_applied")
            .order_by(entries.c.id)
        ).all()
    )
    return [dict(r.data) for r in rows]


async def count(c: Container, query: Any) -> int:
    return int(await c.db.read(lambda conn: conn.execute(query).scalar() or 0))


def rule_jobs() -> Any:
    return sa.select(sa.func.count()).select_from(jobs).where(jobs.c.kind == RULES_JOB)


async def test_a_rule_run_is_done_once(container: Container) -> None:
    c = container
    await add_rule(c, [{"reply": "Thanks, we got it."}])
    await write(c, await make_api_inbox(c), "ana", "hi")
    await c.runner.run_due()
    q = sa.select(jobs.c.status).where(jobs.c.kind == RULES_JOB)
    assert await c.db.read(lambda conn: list(conn.execute(q).scalars())) == ["done", "done"]
    # a second pass finds nothing to run again: the reply went out once
    assert await c.runner.run_due() == 0
    replies = sa.select(sa.func.count()).where(messages.c.direction == "outbound")
    assert await count(c, replies) == 1


async def test_without_rules_a_message_queues_no_rule_run(container: Container) -> None:
    c = container
    await write(c, await make_api_inbox(c), "ana", "I want a refund")
    assert await count(c, rule_jobs()) == 0


Check = Callable[[Container, int, dict[str, int]], Any]


async def _assignee(c: Container, cid: int, ids: dict[str, int]) -> bool:
    return (await conversation(c, cid)).assignee_id == ids["sam"]


async def _team(c: Container, cid: int, ids: dict[str, int]) -> bool:
    return (await conversation(c, cid)).team_id == ids["team"]


async def _priority(c: Container, cid: int, ids: dict[str, int]) -> bool:
    return (await conversation(c, cid)).priority == "urgent"


async def _escalation(c: Container, cid: int, ids: dict[str, int]) -> bool:
    row = await conversation(c, cid)
    return (row.escalation_level, row.team_id) == (2, ids["team"])  # the level-2 team's


async def _status(c: Container, cid: int, ids: dict[str, int]) -> bool:
    return (await conversation(c, cid)).status == "pending"


async def _tag(c: Container, cid: int, ids: dict[str, int]) -> bool:
    q = sa.select(conversation_tags.c.tag).where(conversation_tags.c.conversation_id == cid)
    return await c.db.read(lambda conn: list(conn.execute(q).scalars())) == ["billing"]


def _message(direction: str, text: str) -> Check:
    async def check(c: Container, cid: int, ids: dict[str, int]) -> bool:
        q = sa.select(messages.c.text).where(
            messages.c.conversation_id == cid, messages.c.direction == direction
        )
        return await c.db.read(lambda conn: list(conn.execute(q).scalars())) == [text]

    return check


async def _notified(c: Container, cid: int, ids: dict[str, int]) -> bool:
    q = sa.select(jobs.c.payload).where(jobs.c.kind == "notify_email")
    payloads = await c.db.read(lambda conn: list(conn.execute(q).scalars()))
    return sorted(p["to"] for p in payloads) == ["lead@acme.test", "sam@acme.test"]


async def _nothing_else(c: Container, cid: int, ids: dict[str, int]) -> bool:
    row = await conversation(c, cid)
    return (row.assignee_id, row.priority, row.status) == (None, "normal", "open")


ACTIONS: list[tuple[Callable[[dict[str, int]], dict[str, Any]], Check, str]] = [
    (lambda i: {"assign_agent": i["sam"]}, _assignee, "assigned to agent"),
    (lambda i: {"assign_team": i["team"]}, _team, "assigned to team"),
    (lambda i: {"set_priority": "urgent"}, _priority, "set the priority to urgent"),
    (lambda i: {"add_tag": "Billing"}, _tag, "added the tag 'billing'"),
    (lambda i: {"set_escalation": 2}, _escalation, "set the escalation level to 2"),
    (lambda i: {"set_status": "pending"}, _status, "set the status to pending"),
    (lambda i: {"reply": "We are on it."}, _message("outbound", "We are on it."), "sent a"),
    (lambda i: {"note": "Check Stripe"}, _message("note", "Check Stripe"), "added an internal"),
    (
        lambda i: {"notify": {"users": [i["sam"]], "teams": [i["team"]]}},
        _notified,
        "notified user",
    ),
    (lambda i: {"suggest_channel": "voice"}, _nothing_else, "suggested replying by voice"),
]


@pytest.mark.parametrize(("action", "check", "did"), ACTIONS)
async def test_each_action_is_applied_and_on_the_timeline(
    container: Container, action: Callable[[dict[str, int]], dict[str, Any]], check: Check, did: str
) -> None:
    c = container
    inbox = await make_api_inbox(c)
    await make_email_inbox(c)  # notifications are mailed from an email inbox
    sam, _ = await make_agent(c, "sam@acme.test", role="agent")
    lead, _ = await make_agent(c, "lead@acme.test", role="agent")
    team = await make_team(c, "Billing", members=[lead], inboxes=[inbox])
    await configure_inbox(c, inbox, "manual", level2_team_id=team)
    ids = {"sam": sam, "team": team}
    rule_id = await add_rule(c, [action(ids)], conditions=[{"text": ["refund"]}])
    out = await write(c, inbox, "ana", "Hello, I want a REFUND.")
    cid = out.conversation_id
    assert cid is not None
    await c.runner.run_due()
    assert await check(c, cid, ids)
    [entry] = await applied(c, cid)
    assert (entry["rule_id"], entry["rule"], entry["version"]) == (rule_id, "Refunds", 1)
    assert entry["did"].startswith(did)
    assert entry["reason"] == "matched text contains 'refund'"
    assert "error" not in entry


async def test_a_rule_escalating_to_level_2_hands_the_conversation_to_the_level_2_team(
    container: Container,
) -> None:
    c = container
    inbox = await make_api_inbox(c)
    ana, ben = await agent(c, "Ana"), await agent(c, "Ben")
    experts = await make_team(c, "Experts", members=[ben], inboxes=[inbox])
    await configure_inbox(c, inbox, "round_robin", level2_team_id=experts)
    await add_rule(c, [{"set_escalation": 2}], name="Manager", conditions=[{"text": ["manager"]}])
    await add_rule(c, [{"set_escalation": 1}], name="Calm", conditions=[{"text": ["thanks"]}])
    cid = (await write(c, inbox, "ana", "my parcel is late")).conversation_id
    assert cid is not None
    await c.runner.run_due()
    assert await assignee(c, cid) == ana
    await write(c, inbox, "ana", "I want to speak to a manager")
    await c.runner.run_due()
    # as the Escalate button does: off Ana, to the level-2 team, and one of its members
    row = await conversation(c, cid)
    assert (row.escalation_level, row.team_id, row.assignee_id) == (2, experts, ben)
    await write(c, inbox, "ana", "manager, thanks")
    await c.runner.run_due()
    # Level 1 is a plain level change: Ben keeps it, the team stays. Escalating what
    # is already at level 2 is refused, on the timeline, as the button refuses it.
    row = await conversation(c, cid)
    assert (row.escalation_level, row.team_id, row.assignee_id) == (1, experts, ben)
    ran = [(e["rule"], e.get("error")) for e in await applied(c, cid)]
    assert ran == [
        ("Manager", None),
        ("Manager", "the conversation is already at level 2"),
        ("Calm", None),
    ]


async def test_a_rule_cannot_escalate_to_level_2_in_an_inbox_without_a_level_2_team(
    container: Container,
) -> None:
    c = container
    await add_rule(c, [{"set_escalation": 2}])
    cid = (await write(c, await make_api_inbox(c), "ana", "hi")).conversation_id
    assert cid is not None
    await c.runner.run_due()
    assert (await conversation(c, cid)).escalation_level == 1
    [entry] = await applied(c, cid)
    assert entry["error"] == "this inbox has no level-2 team (Settings → Assignment)"


async def test_a_rule_that_does_not_hold_does_nothing(container: Container) -> None:
    c = container
    await add_rule(c, [{"set_priority": "urgent"}], conditions=[{"text": ["refund"]}])
    out = await write(c, await make_api_inbox(c), "ana", "Where is my parcel?")
    assert out.conversation_id is not None
    await c.runner.run_due()
    assert await applied(c, out.conversation_id) == []
    assert (await conversation(c, out.conversation_id)).priority == "normal"


async def test_the_timeline_names_the_version_that_ran(container: Container) -> None:
    c = container
    inbox = await make_api_inbox(c)
    rule_id = await add_rule(c, [{"add_tag": "one"}])
    first = await write(c, inbox, "ana", "hi")
    await c.runner.run_due()
    body = {"name": "Tagger", "events": ["message_received"], "actions": [{"add_tag": "two"}]}
    await c.bus.execute(lambda tx: update_rule(tx, rule_id, body, actor_id=None))
    await write(c, inbox, "ana", "hi again")
    await c.runner.run_due()
    assert first.conversation_id is not None
    ran = await applied(c, first.conversation_id)
    assert [(e["rule"], e["version"], e["value"]) for e in ran] == [
        ("Refunds", 1, "one"),
        ("Tagger", 2, "two"),
    ]


async def test_conversation_created_runs_once_and_message_received_for_each_message(
    container: Container,
) -> None:
    c = container
    inbox = await make_api_inbox(c)
    await add_rule(c, [{"add_tag": "new"}], name="New", events=["conversation_created"])
    await add_rule(c, [{"note": "seen"}], name="Each", events=["message_received"])
    out = await write(c, inbox, "ana", "one")
    await write(c, inbox, "ana", "two")
    await c.runner.run_due()
    assert out.conversation_id is not None
    # one job per event: they may run side by side, each in its own unit of work
    assert sorted(e["rule"] for e in await applied(c, out.conversation_id)) == [
        "Each",
        "Each",
        "New",
    ]


async def test_an_action_that_cannot_be_done_is_on_the_timeline_and_the_rest_still_run(
    container: Container,
) -> None:
    c = container
    await add_rule(c, [{"assign_agent": 999}, {"set_priority": "high"}])
    out = await write(c, await make_api_inbox(c), "ana", "hi")
    await c.runner.run_due()
    assert out.conversation_id is not None
    failed, done = await applied(c, out.conversation_id)
    assert failed["error"] == "user 999 does not exist"
    assert "error" not in done
    assert (await conversation(c, out.conversation_id)).priority == "high"
    # as the conversation's timeline words them
    assert [describe({"kind": "rule_applied", "data": e}, {}) for e in (failed, done)] == [
        "Rule Refunds (v1) could not do this: assigned to agent 999: user 999 does not exist",
        "Rule Refunds (v1) set the priority to high: matches every event it listens to",
    ]


async def test_rules_that_undo_each_other_stop_after_a_bounded_depth(
    container: Container,
) -> None:
    c = container
    await add_rule(c, [{"set_status": "pending"}], name="Park", events=["status_changed"],
                   conditions=[{"status": ["open"]}])  # fmt: skip
    await add_rule(c, [{"set_status": "open"}], name="Unpark", events=["status_changed"],
                   conditions=[{"status": ["pending"]}])  # fmt: skip
    await add_rule(c, [{"set_status": "pending"}], name="Start")
    out = await write(c, await make_api_inbox(c), "ana", "hi")
    cid = out.conversation_id
    assert cid is not None
    await c.runner.run_due()
    ran = [e["rule"] for e in await applied(c, cid)]
    # Start (depth 0) causes status_changed at depth 1, …, up to MAX_DEPTH, then no more.
    assert ran == ["Start"] + ["Unpark", "Park"] * (MAX_DEPTH // 2) + ["Unpark"] * (MAX_DEPTH % 2)
    q = sa.select(jobs.c.payload).where(jobs.c.kind == RULES_JOB)
    payloads = await c.db.read(lambda conn: list(conn.execute(q).scalars()))
    depths = sorted(p["depth"] for p in payloads if p["event"] == "status_changed")
    assert depths == list(range(1, MAX_DEPTH + 1))


@pytest.mark.parametrize(("event", "late"), [("sla_warning", 0), ("sla_breach", 1)])
async def test_an_sla_warning_or_breach_runs_the_rules_listening_for_it(
    container: Container, clock: FakeClock, event: str, late: int
) -> None:
    c = container
    await add_rule(c, [{"set_priority": "urgent"}], events=[event])
    out = await write(c, await make_api_inbox(c), "ana", "still waiting for my refund")
    assert out.conversation_id is not None
    await c.runner.run_due()
    assert (await conversation(c, out.conversation_id)).priority == "normal"
    # The API channel is owed an answer in 4 hours; its warning comes 15 minutes before.
    clock.advance(timedelta(hours=4) - timedelta(minutes=15) + timedelta(minutes=16 * late))
    await c.runner.run_due()
    assert (await conversation(c, out.conversation_id)).priority == "urgent"
    [done] = await applied(c, out.conversation_id)
    assert done["did"] == "set the priority to urgent"
