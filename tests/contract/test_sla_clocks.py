"""The SLA clocks as conversations move: a next response after an agent's answer,
resolution from the start, paused while pending and resumed with what was left, a
priority change, an edited policy, and a missed call's callback in the calendar."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from tests.support.factories import deliver_email, make_agent, make_email, make_inbox

from threadline.actions.calls import record_call
from threadline.actions.conversation_merge import merge_conversations
from threadline.actions.conversations import update_conversation
from threadline.actions.replies import send_reply
from threadline.actions.sla_policies import set_policy
from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.core.identity import normalize
from threadline.core.model import CallEvent, ConversationStatus
from threadline.core.sla import DEFAULT_POLICIES, Kind
from threadline.storage.tables import conversations, sla_policies, tasks

pytestmark = pytest.mark.anyio

BERLIN = ZoneInfo("Europe/Berlin")
HOURS = {
    "timezone": "Europe/Berlin",
    "days": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    "country": "DE",
    "subdivision": "BY",
}


def berlin(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).astimezone(UTC)


async def _row(c: Container, conversation_id: int) -> Any:
    return await c.db.read(
        lambda conn: conn.execute(
            sa.select(conversations).where(conversations.c.id == conversation_id)
        ).one()
    )


async def _reply(c: Container, conversation_id: int, agent_id: int) -> None:
    await c.bus.execute(
        lambda tx: send_reply(
            tx, c.bus.cfg, conversation_id=conversation_id, author_id=agent_id, text="On it."
        )
    )


async def _set(c: Container, conversation_id: int, agent_id: int, **changes: Any) -> None:
    await c.bus.execute(
        lambda tx: update_conversation(tx, conversation_id, actor_id=agent_id, **changes)
    )


async def _desk(c: Container) -> tuple[int, int]:
    """A Bavarian email inbox on a 9-17 calendar, and an agent."""
    inbox = await make_inbox(
        c, "email", "Support", "support@acme.test", {"webhook_secret": "s", "hours": HOURS}
    )
    agent_id, _ = await make_agent(c, role="agent")
    return inbox, agent_id


async def _email(c: Container, inbox: int, body: str) -> int:
    raw, _ = make_email(body=body)
    out = await deliver_email(c, inbox, raw)
    assert out.conversation_id is not None
    return out.conversation_id


async def test_an_answered_customer_who_writes_again_is_owed_a_next_response(
    container: Container, clock: FakeClock
) -> None:
    c = container
    inbox, agent_id = await _desk(c)
    clock.set(berlin("2026-11-30 10:00"))
    cid = await _email(c, inbox, "Where is my parcel?")
    row = await _row(c, cid)
    assert row.first_response_due_at == berlin("2026-11-30 14:00")
    assert row.next_response_due_at is None
    # Email is resolved within 48 h on the wall clock at normal priority.
    assert row.resolution_due_at == berlin("2026-12-02 10:00")

    clock.set(berlin("2026-11-30 11:00"))
    await _reply(c, cid, agent_id)
    row = await _row(c, cid)
    assert row.first_response_at == berlin("2026-11-30 11:00")
    assert (row.first_response_due_at, row.next_response_due_at) == (None, None)

    clock.set(berlin("2026-11-30 16:00"))  # 1 h today, 3 h tomorrow
    assert await _email(c, inbox, "Any news?") == cid
    row = await _row(c, cid)
    assert row.first_response_due_at is None
    assert row.next_response_due_at == berlin("2026-12-01 12:00")
    assert row.resolution_due_at == berlin("2026-12-02 10:00")  # unchanged by the wait


async def test_pending_pauses_every_clock_and_reopening_resumes_what_was_left(
    container: Container, clock: FakeClock
) -> None:
    c = container
    inbox, agent_id = await _desk(c)
    clock.set(berlin("2026-11-30 10:00"))
    cid = await _email(c, inbox, "My invoice is wrong")
    clock.set(berlin("2026-11-30 12:00"))  # 2 business hours of the first response left
    await _set(c, cid, agent_id, status=ConversationStatus.PENDING)
    row = await _row(c, cid)
    assert row.paused_at == berlin("2026-11-30 12:00")

    # The customer answers the next day at 10:00: 2 h of business time, 46 h of the
    # 48 h resolution left, each counted from now.
    clock.set(berlin("2026-12-01 10:00"))
    assert await _email(c, inbox, "Here is the order number: 4417") == cid
    row = await _row(c, cid)
    assert row.status == "open"
    assert row.paused_at is None
    assert row.paused_seconds == 22 * 3600
    assert row.first_response_due_at == berlin("2026-12-01 12:00")
    assert row.resolution_due_at == berlin("2026-12-03 08:00")

    # An agent's reopening resumes as well; resolving stops every clock.
    clock.set(berlin("2026-12-01 11:00"))
    await _set(c, cid, agent_id, status=ConversationStatus.PENDING)
    clock.set(berlin("2026-12-01 11:30"))
    await _set(c, cid, agent_id, status=ConversationStatus.OPEN)
    row = await _row(c, cid)
    assert row.first_response_due_at == berlin("2026-12-01 12:30")
    assert row.paused_seconds == 22 * 3600 + 1800
    await _set(c, cid, agent_id, status=ConversationStatus.RESOLVED)
    row = await _row(c, cid)
    assert (row.first_response_due_at, row.next_response_due_at, row.resolution_due_at) == (
        None,
        None,
        None,
    )

    # A customer who writes to the resolved conversation reopens it: a new resolution clock.
    clock.set(berlin("2026-12-02 09:00"))
    assert await _email(c, inbox, "It happened again") == cid
    row = await _row(c, cid)
    assert row.resolution_due_at == berlin("2026-12-04 09:00")


async def test_a_higher_priority_moves_the_running_clocks_to_its_targets(
    container: Container, clock: FakeClock
) -> None:
    c = container
    inbox, agent_id = await _desk(c)
    clock.set(berlin("2026-11-30 10:00"))
    cid = await _email(c, inbox, "Payment failed, card declined")
    # An admin tightens urgent email to 1 business hour for a first response.
    await c.bus.execute(
        lambda tx: set_policy(
            tx,
            channel="email",
            priority="urgent",
            kind="first_response",
            seconds=3600,
            business=True,
            warn_percent=80,
            actor_id=agent_id,
        )
    )
    clock.set(berlin("2026-11-30 10:30"))
    await _set(c, cid, agent_id, priority="urgent")
    row = await _row(c, cid)
    assert row.first_response_due_at == berlin("2026-11-30 11:00")  # 30 min were used
    assert row.resolution_due_at == berlin("2026-12-01 10:00")  # 24 h for urgent email


async def test_a_missed_call_is_owed_a_callback_in_business_hours(
    container: Container, clock: FakeClock
) -> None:
    c = container
    voice = await make_inbox(c, "voice", "Line", "+4989123456", {"hours": HOURS})
    clock.set(berlin("2026-12-04 16:30"))  # Friday: 30 min today, 90 on Monday
    missed = CallEvent(
        call_id="CA1",
        key="CA1:no-answer",
        caller=normalize("phone", "+4917612345678", verified=True),
        direction="inbound",
        status="no-answer",
        answered=False,
    )
    call = await c.bus.execute(lambda tx: record_call(tx, c.bus.cfg, voice, missed))
    due = await c.db.read(
        lambda conn: conn.execute(
            sa.select(tasks.c.due_at).where(tasks.c.id == call.task_id)
        ).scalar()
    )
    assert due == berlin("2026-12-07 10:30")


async def test_the_seeded_policies_are_the_defaults(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL tests start from empty tables")
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        seeded = {
            (r.channel, r.priority, Kind(r.kind)): (r.seconds, r.business, r.warn_percent)
            for r in conn.execute(sa.select(sla_policies))
        }
    engine.dispose()
    assert seeded == {
        key: (int(t.within.total_seconds()), t.business, t.warn_percent)
        for key, t in DEFAULT_POLICIES.items()
    }
    assert seeded["chat", "normal", Kind.FIRST_RESPONSE] == (60, True, 80)
    assert seeded["email", "normal", Kind.RESOLUTION] == (48 * 3600, False, 80)
    assert seeded["voice", "urgent", Kind.CALLBACK] == (7200, True, 80)


async def test_a_merge_keeps_the_earlier_clocks_as_a_next_response_once_answered(
    container: Container, clock: FakeClock
) -> None:
    c = container
    inbox, agent_id = await _desk(c)
    clock.set(berlin("2026-11-30 10:00"))
    answered = await _email(c, inbox, "Where is my parcel?")
    await _reply(c, answered, agent_id)
    clock.set(berlin("2026-11-30 11:00"))
    raw, _ = make_email(subject="Invoice 2231 is wrong", body="Please check")
    other = (await deliver_email(c, inbox, raw)).conversation_id
    assert other is not None
    assert other != answered
    await c.bus.execute(
        lambda tx: merge_conversations(tx, source_id=other, target_id=answered, actor_id=agent_id)
    )
    row = await _row(c, answered)
    assert row.first_response_at == berlin("2026-11-30 10:00")
    assert row.first_response_due_at is None
    assert row.next_response_due_at == berlin("2026-11-30 15:00")
    assert row.resolution_due_at == berlin("2026-12-02 10:00")  # the earlier of the two
    gone = await _row(c, other)
    assert (gone.first_response_due_at, gone.resolution_due_at) == (None, None)
