"""The whole chain, end to end with a fake clock (issue 9's "Done when"): a chat, an
email and a WhatsApp message come in through their real ingest paths on a Berlin
9-17 calendar, are assigned at level 1, warned about, acted on by a rule, breached,
escalated by a rule to level 2 and reassigned within the level-2 team; the timeline
tells it in that order and the inbox row shows the breach.

The seeded policies: chat is owed a first response in 60 s (warned at 48 s, 80 %), WhatsApp
in 2 business hours and email in 4 (each warned 15 minutes before). The three
customers write at 09:59:30, Monday; Ana works from 09:00, Ben (the second line)
from 10:00, so level 1 can only be Ana and level 2 only Ben.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from tests.channels.meta.support import fixture, make_meta_inbox, post_meta
from tests.support.assignment import agent, chat, configure_inbox, online
from tests.support.factories import (
    api_client,
    deliver_email,
    make_email,
    make_inbox,
    make_team,
    timeline,
)
from tests.support.hours import HOURS, berlin
from tests.support.inbox import row

from threadline.actions.chat_missed import NOTIFY_JOB
from threadline.actions.rules import create_rule
from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.storage.tables import conversations, jobs

pytestmark = pytest.mark.anyio

START = berlin("2026-11-30 09:59:30")  # a Monday
DUE = {
    "chat": START + timedelta(seconds=60),
    "whatsapp": START + timedelta(hours=2),
    "email": START + timedelta(hours=4),
}
WARN = {
    "chat": START + timedelta(seconds=48),  # the policy warns at 80 % elapsed
    "whatsapp": DUE["whatsapp"] - timedelta(minutes=15),
    "email": DUE["email"] - timedelta(minutes=15),
}
# What the story is told with; the rest (messages, triage, notes) is left out.
STORY = ("assigned", "sla_warning", "rule_applied", "sla_breached", "escalation_changed")


def _shift(start: str) -> dict[str, Any]:
    days = ["mon", "tue", "wed", "thu", "fri"]
    channels = ["chat", "email", "whatsapp"]
    return {
        "timezone": "Europe/Berlin",
        "spans": [{"days": days, "start": start, "end": "17:00", "channels": channels}],
    }


async def _desk(c: Container) -> dict[str, int]:
    """Three inboxes on the calendar, assigning round robin, with a level-2 team, and
    the rules: a warning raises the priority and tells the team; a breach escalates."""
    chat_inbox = await make_inbox(c, "chat", "Acme chat", "chat_acme", {"hours": HOURS})
    mail = await make_inbox(
        c, "email", "Acme Support", "support@acme.test", {"webhook_secret": "s", "hours": HOURS}
    )
    whatsapp = await make_meta_inbox(c, "whatsapp", hours=HOURS)
    inboxes = [chat_inbox, mail, whatsapp]
    ana = await agent(c, "Ana", capacity={"chat": 3, "email": 20}, shifts=_shift("09:00"))
    ben = await agent(c, "Ben", capacity={"chat": 3, "email": 20}, shifts=_shift("10:00"))
    await make_team(c, "Front", members=[ana], inboxes=inboxes)
    experts = await make_team(c, "Experts", members=[ben], inboxes=inboxes)
    for inbox in inboxes:
        await configure_inbox(c, inbox, "round_robin", level2_team_id=experts)
    rules = [
        {
            "name": "Hurry",
            "events": ["sla_warning"],
            "actions": [{"set_priority": "high"}, {"notify": {"teams": [experts]}}],
        },
        {"name": "Second line", "events": ["sla_breach"], "actions": [{"set_escalation": 2}]},
    ]
    for body in rules:
        await c.bus.execute(lambda tx, body=body: create_rule(tx, body, actor_id=None))
    return {"chat": chat_inbox, "email": mail, "whatsapp": whatsapp, "ana": ana, "ben": ben}


async def _whatsapp(c: Container) -> int:
    """A signed Meta webhook, as Meta posts it; returns the conversation it went to."""
    async with api_client(c) as client:
        answer = await post_meta(client, fixture("whatsapp_text"))
    assert answer.status_code == 200, answer.text
    query = sa.select(conversations.c.id).where(conversations.c.last_inbound_channel == "whatsapp")
    cid: int = await c.db.read(lambda conn: conn.execute(query).scalar_one())
    return cid


async def _run_at(c: Container, clock: FakeClock, at: datetime, *agents: int) -> None:
    clock.set(at)
    await online(c, *agents)  # their tabs beat on; a chat goes to someone online
    await c.runner.run_due()


async def _story(c: Container, cid: int, viewer: int) -> list[tuple[Any, ...]]:
    found = await row(c, cid, viewer)
    assert found is not None
    told: list[tuple[Any, ...]] = []
    for entry in await timeline(c, found["customer_id"]):
        kind, data = entry["kind"], entry["data"]
        if entry["conversation_id"] != cid or kind not in STORY:
            continue
        if kind == "assigned":
            told.append((kind, data["to"], (data.get("reason") or "").split(":")[0]))
        elif kind == "rule_applied":
            told.append((kind, data["rule"], data["action"], data.get("error")))
        elif kind == "escalation_changed":
            told.append((kind, data["from"], data["to"]))
        else:
            told.append((kind, data["clock"], data["at"]))
    return told


async def test_a_chat_an_email_and_a_dm_are_warned_breached_and_escalated_to_level_2(
    container: Container, clock: FakeClock
) -> None:
    c = container
    clock.set(START - timedelta(minutes=5))
    desk = await _desk(c)
    ana, ben = desk["ana"], desk["ben"]
    clock.set(START)
    await online(c, ana)
    cids = {
        "chat": await chat(c, desk["chat"], "My payment failed twice, help"),
        "email": (
            await deliver_email(c, desk["email"], make_email(body="Where is my order?")[0])
        ).conversation_id,
        "whatsapp": await _whatsapp(c),
    }
    await c.runner.run_due()
    for name, cid in cids.items():
        found = await row(c, cid, ana)
        assert found is not None
        assert (found["assignee_id"], found["sla_state"]) == (ana, "running"), name
        assert found["sla_due_at"] == DUE[name], name

    for name in ("chat", "whatsapp", "email"):
        await _run_at(c, clock, WARN[name], ana, ben)
        await _run_at(c, clock, DUE[name], ana, ben)

    for name, cid in cids.items():
        assert await _story(c, cid, ana) == [
            ("assigned", ana, "round robin"),
            ("sla_warning", "first_response", WARN[name].isoformat()),
            ("rule_applied", "Hurry", "set_priority", None),
            ("rule_applied", "Hurry", "notify", None),
            ("sla_breached", "first_response", DUE[name].isoformat()),
            # a rule's entry follows what it did: to level 2, and off Ana
            ("escalation_changed", 1, 2),
            ("assigned", None, ""),
            ("rule_applied", "Second line", "set_escalation", None),
            ("assigned", ben, "level 2"),
        ], name
        found = await row(c, cid, ben)
        assert found is not None
        assert (found["sla_state"], found["sla_due_at"]) == ("breached", DUE[name]), name
        assert (found["assignee_id"], found["priority"]) == (ben, "high"), name
    # The warnings' notifications went to the level-2 team, one per conversation (the
    # chat's missed-chat alerts to Ana and Ben are mail of this kind too).
    query = sa.select(jobs.c.payload).where(jobs.c.kind == NOTIFY_JOB).order_by(jobs.c.id)
    mail = await c.db.read(lambda conn: list(conn.execute(query).scalars()))
    told = [p for p in mail if p["subject"].startswith("[Threadline] Rule Hurry")]
    assert [(p["to"], p["conversation_id"]) for p in told] == [
        ("ben@acme.test", cids[name]) for name in ("chat", "whatsapp", "email")
    ]
