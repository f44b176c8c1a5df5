"""queries.rules.load_facts: what a rule sees, read from the database."""

from __future__ import annotations

import pytest
from tests.support.factories import make_agent, make_api_inbox, make_inbox
from tests.support.inbox import change, reply, write

from threadline.actions.customers import set_attributes
from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.core.model import ConversationStatus
from threadline.queries.rules import load_facts

pytestmark = pytest.mark.anyio


async def test_facts_hold_the_conversation_its_customer_and_the_message(
    container: Container, clock: FakeClock
) -> None:
    c = container
    inbox = await make_api_inbox(c)
    sam, _ = await make_agent(c)
    out = await write(c, inbox, "ana", "My card was declined")
    cid, mid = out.conversation_id, out.message_id
    assert cid is not None
    assert mid is not None
    await change(c, cid, sam, priority="high", assignee_id=sam, add_tags=["VIP"])
    await c.bus.execute(
        lambda tx: set_attributes(tx, out.customer_id or 0, {"plan": "pro"}, actor="test")
    )
    clock.advance(hours=3)
    facts = await c.db.read(lambda conn: load_facts(conn, cid, mid, clock.now()))
    assert facts is not None
    assert (facts.channel, facts.inbox_id, facts.text) == ("api", inbox, "My card was declined")
    assert (facts.priority, facts.tags, facts.assigned) == ("high", frozenset({"vip"}), True)
    assert dict(facts.attributes) == {"plan": "pro"}
    assert (facts.status, facts.escalation_level, facts.open_now) == ("open", 1, True)
    assert facts.hours_since_customer == pytest.approx(3.0)
    # the message's triage decision: "card declined" is billing, and urgent
    assert (facts.category, facts.urgent, facts.sensitive) == ("billing", True, False)


async def test_without_a_message_the_facts_have_no_text(container: Container) -> None:
    c = container
    out = await write(c, await make_api_inbox(c), "ana", "hello")
    assert out.conversation_id is not None
    facts = await c.db.read(
        lambda conn: load_facts(conn, out.conversation_id or 0, None, c.clock.now())
    )
    assert facts is not None
    assert (facts.text, facts.channel) == ("", "api")


async def test_business_hours_come_from_the_inbox_calendar(
    container: Container, clock: FakeClock
) -> None:
    c = container
    closed = {"hours": {"timezone": "UTC", "days": {}}}  # no opening hours at all
    inbox = await make_inbox(c, "api", "Night app", "night-app", closed)
    out = await write(c, inbox, "ana", "hello")
    assert out.conversation_id is not None
    facts = await c.db.read(
        lambda conn: load_facts(conn, out.conversation_id or 0, None, clock.now())
    )
    assert facts is not None
    assert facts.open_now is False


async def test_a_conversation_that_is_gone_has_no_facts(container: Container) -> None:
    facts = await container.db.read(
        lambda conn: load_facts(conn, 424242, None, container.clock.now())
    )
    assert facts is None


async def test_hours_since_the_agent_and_in_the_status_are_counted_from_the_clock(
    container: Container, clock: FakeClock
) -> None:
    c = container
    sam, _ = await make_agent(c)
    out = await write(c, await make_api_inbox(c), "ana", "hello")
    cid = out.conversation_id
    assert cid is not None
    facts = await c.db.read(lambda conn: load_facts(conn, cid, None, clock.now()))
    assert facts is not None
    assert (facts.hours_since_agent, facts.hours_in_status) == (None, 0.0)  # open since created
    await reply(c, cid, sam, "Which order?")
    clock.advance(hours=2)
    await change(c, cid, sam, status=ConversationStatus.PENDING)
    clock.advance(hours=3)
    facts = await c.db.read(lambda conn: load_facts(conn, cid, None, clock.now()))
    assert facts is not None
    assert facts.hours_since_agent == pytest.approx(5.0)
    assert facts.hours_in_status == pytest.approx(3.0)


async def test_a_customer_reopening_a_pending_conversation_restarts_its_hours_in_status(
    container: Container, clock: FakeClock
) -> None:
    c = container
    sam, _ = await make_agent(c)
    inbox = await make_api_inbox(c)
    out = await write(c, inbox, "ana", "hello")
    cid = out.conversation_id
    assert cid is not None
    await change(c, cid, sam, status=ConversationStatus.PENDING)
    clock.advance(hours=5)
    await write(c, inbox, "ana", "here is the order number")
    clock.advance(hours=1)
    facts = await c.db.read(lambda conn: load_facts(conn, cid, None, clock.now()))
    assert facts is not None
    assert (facts.status, facts.hours_in_status) == ("open", pytest.approx(1.0))
    await write(c, inbox, "ana", "and a photo")  # open already: the status did not change
    clock.advance(hours=1)
    facts = await c.db.read(lambda conn: load_facts(conn, cid, None, clock.now()))
    assert facts is not None
    assert facts.hours_in_status == pytest.approx(2.0)
