"""Who the visitor is (anonymous, claimed, verified), and what agents and visitors
see of each other: resolution and rating, typing, presence."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from tests.support.factories import deliver_api, make_api_inbox, timeline
from tests.support.widget import signed, visitor_socket
from tests.widget.conftest import Widget
from tests.widget.test_widget_socket import conversation_of, visitor_key

from threadline.actions.conversations import update_conversation
from threadline.actions.replies import send_reply
from threadline.actions.sla_policies import set_policy
from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.core.model import Channel, ConversationStatus
from threadline.ports import Delivery
from threadline.storage.tables import customers, inboxes, merge_suggestions, messages
from threadline.web.ui.hub import publish_viewers

pytestmark = pytest.mark.anyio


async def customer_on_file(c: Container, **customer: Any) -> int:
    """A customer the business's own systems told us about (verified identities)."""
    inbox_id = await make_api_inbox(c)
    outcome = await deliver_api(
        c, inbox_id, {"id": "crm-1", "customer": customer, "text": "signed up"}
    )
    assert outcome.customer_id is not None
    return outcome.customer_id


async def message_customer(c: Container, text: str) -> int:
    return int(
        await c.db.read(
            lambda conn: conn.execute(
                sa.select(messages.c.customer_id).where(messages.c.text == text)
            ).scalar_one()
        )
    )


async def test_a_verified_identity_joins_the_customer_on_file(
    container: Container, widget: Widget
) -> None:
    ana = await customer_on_file(container, external_id="u-42", email="ana@example.com", name="Ana")
    identity = signed("u-42", "Ana@Example.com", name="Ana Souza")
    async with visitor_socket(widget.url, widget.key, identity=identity) as s:
        await s.message("verified-msg-0001", "it is me")
    assert not s.errors
    assert s.welcome["visitor"] == {
        "name": "Ana Souza",
        "email": "ana@example.com",
        "verified": True,
    }
    assert await message_customer(container, "it is me") == ana


async def test_signing_in_mid_chat_folds_the_visitor_into_the_customer_on_file(
    container: Container, widget: Widget
) -> None:
    ana = await customer_on_file(container, external_id="u-42", email="ana@example.com")
    async with visitor_socket(widget.url, widget.key) as s:
        await s.message("anon-msg-0000001", "before I sign in")
        token = s.welcome["token"]
    anonymous = await message_customer(container, "before I sign in")
    assert anonymous != ana
    identity = signed("u-42", "ana@example.com")
    async with visitor_socket(widget.url, widget.key, token=token, identity=identity) as s:
        await s.message("signed-msg-000001", "now signed in")
    assert not s.errors
    assert await message_customer(container, "now signed in") == ana
    merged = await container.db.read(
        lambda c: c.execute(
            sa.select(customers.c.id, customers.c.merged_into_id).where(
                customers.c.id.in_([ana, anonymous])
            )
        ).all()
    )
    assert dict(merged) == {ana: None, anonymous: ana}  # the chat joins Ana, not the reverse
    conversations = await container.db.read(
        lambda c: (
            c.execute(
                sa.select(messages.c.conversation_id).where(
                    messages.c.text.in_(["before I sign in", "now signed in"])
                )
            )
            .scalars()
            .all()
        )
    )
    assert len(set(conversations)) == 1  # one chat, continued on Ana's record


async def test_a_bad_identity_hash_is_refused_and_the_visitor_stays_anonymous(
    container: Container, widget: Widget
) -> None:
    ana = await customer_on_file(container, external_id="u-42", email="ana@example.com")
    forged = signed("u-42", "ana@example.com", secret="not-the-inbox-secret-0123456789abcdef")
    async with visitor_socket(widget.url, widget.key, identity=forged) as s:
        await s.message("forged-msg-000001", "let me in")
    assert [e["code"] for e in s.errors] == ["identity"]
    assert s.welcome["visitor"]["verified"] is False
    assert await message_customer(container, "let me in") != ana


async def test_another_person_signing_in_on_the_same_browser_gets_their_own_visitor(
    container: Container, widget: Widget
) -> None:
    async with visitor_socket(widget.url, widget.key, identity=signed("u-1", "a@x.example")) as s:
        token = s.welcome["token"]
    bob = signed("u-2", "b@x.example")
    async with visitor_socket(widget.url, widget.key, token=token, identity=bob) as s:
        assert s.welcome["token"] != token
        assert s.welcome["visitor"]["email"] == "b@x.example"


async def test_a_claimed_email_on_file_gives_a_merge_suggestion_not_a_merge(
    container: Container, widget: Widget
) -> None:
    ana = await customer_on_file(container, external_id="u-42", email="ana@example.com")
    async with visitor_socket(widget.url, widget.key) as s:
        await s.send(type="profile", name="Ana?", email="ana@example.com")
        await s.message("claimed-msg-00001", "I am Ana, honest")
    visitor_customer = await message_customer(container, "I am Ana, honest")
    assert visitor_customer != ana
    suggestions = await container.db.read(
        lambda c: c.execute(
            sa.select(
                merge_suggestions.c.customer_id,
                merge_suggestions.c.other_customer_id,
                merge_suggestions.c.status,
            )
        ).all()
    )
    assert [tuple(r) for r in suggestions] == [(visitor_customer, ana, "open")]
    merged = await container.db.read(
        lambda c: c.execute(
            sa.select(customers.c.merged_into_id).where(customers.c.id == ana)
        ).scalar()
    )
    assert merged is None


async def test_a_profile_with_a_bad_email_is_refused(widget: Widget) -> None:
    async with visitor_socket(widget.url, widget.key) as s:
        await s.send(type="profile", email="not an address")
        refused = await s.next("error")
    assert refused["code"] == "invalid"


async def test_a_resolved_chat_asks_for_a_rating_recorded_on_the_timeline(
    container: Container, widget: Widget
) -> None:
    async with visitor_socket(widget.url, widget.key) as s:
        await s.message("rate-me-000000001", "thanks for the help")
        await s.events(1)
        key = await visitor_key(container, s)
        conversation_id = await conversation_of(container, key)
        await container.bus.execute(
            lambda tx: update_conversation(
                tx, conversation_id, actor_id=widget.agent_id, status=ConversationStatus.RESOLVED
            )
        )
        [resolved] = await s.events(1)
        await s.send(type="csat", score=4, comment="  quick   and <kind> ")
        [rated] = await s.events(1)
        await s.send(type="csat", score=1)
        twice = await s.next("error")
    assert resolved["kind"] == "resolved"
    assert resolved["seq"] == 2
    assert rated["kind"] == "csat"
    assert rated["score"] == 4
    assert rated["comment"] == "quick and <kind>"
    assert twice["code"] == "invalid"
    customer_id = await message_customer(container, "thanks for the help")
    entries = [e for e in await timeline(container, customer_id) if e["kind"] == "csat"]
    assert [(e["conversation_id"], e["data"]["score"]) for e in entries] == [(conversation_id, 4)]


async def test_a_rating_without_a_resolved_chat_is_refused(widget: Widget) -> None:
    async with visitor_socket(widget.url, widget.key) as s:
        await s.send(type="csat", score=5)
        refused = await s.next("error")
    assert refused["code"] == "invalid"


async def test_typing_shows_both_ways(container: Container, widget: Widget) -> None:
    async with visitor_socket(widget.url, widget.key) as s:
        await s.message("typing-msg-000001", "hello")
        conversation_id = await conversation_of(container, await visitor_key(container, s))
        topic = f"conversation:{conversation_id}"
        async with container.broker.listen() as deliveries:
            await s.send(type="typing", on=True)
            await s.settle()
            seen: Delivery = await anext(d async for d in deliveries if d.topic == topic)
        assert seen.data["type"] == "visitor_typing"
        assert seen.data["on"] is True
        # An agent types in the composer: the widget shows who.
        await container.presence.viewing(conversation_id, widget.agent_id, "tab-1", typing=True)
        await publish_viewers(container, conversation_id)
        started = await s.next("typing")
        await container.presence.viewing(conversation_id, widget.agent_id, "tab-1", typing=False)
        await publish_viewers(container, conversation_id)
        stopped = await s.next("typing")
    assert started == {"type": "typing", "on": True, "name": "Sam Rivera"}
    assert stopped == {"type": "typing", "on": False, "name": None}


async def test_an_agent_coming_online_is_announced_to_open_widgets(
    container: Container, widget: Widget
) -> None:
    async with visitor_socket(widget.url, widget.key) as s:
        assert s.welcome["online"] is False
        change = await container.presence.beat(widget.agent_id, "tab-1", active=True)
        assert change is not None
        await container.broker.publish(
            "presence", {"type": "presence", "user_id": widget.agent_id, "state": change.state}
        )
        presence = await s.next("presence")
    assert presence["online"] is True
    assert presence["expect"] == "We usually reply within a minute"


async def test_the_widget_line_follows_the_edited_chat_policy(
    container: Container, widget: Widget
) -> None:
    """Settings → Response targets: chat within 5 minutes; the header says so."""
    await container.bus.execute(
        lambda tx: set_policy(
            tx,
            channel="chat",
            priority="normal",
            kind="first_response",
            seconds=300,
            business=True,
            warn_percent=80,
            actor_id=None,
        )
    )
    async with visitor_socket(widget.url, widget.key) as s:
        change = await container.presence.beat(widget.agent_id, "tab-1", active=True)
        assert change is not None
        await container.broker.publish(
            "presence", {"type": "presence", "user_id": widget.agent_id, "state": change.state}
        )
        presence = await s.next("presence")
    assert presence["expect"] == "We usually reply within 5 minutes"


async def test_a_chat_reply_in_a_conversation_from_another_channel_reaches_the_visitor(
    container: Container, widget: Widget, clock: FakeClock
) -> None:
    await customer_on_file(container, external_id="u-42", email="ana@example.com")
    async with visitor_socket(
        widget.url, widget.key, identity=signed("u-42", "ana@example.com")
    ) as s:
        await s.message("elsewhere-msg-0001", "first chat")
        chat_conversation = await conversation_of(container, await visitor_key(container, s))
        await s.events(1)
        await container.bus.execute(
            lambda tx: update_conversation(
                tx, chat_conversation, actor_id=None, status=ConversationStatus.RESOLVED
            )
        )
        await s.events(1)  # resolved
        clock.advance(days=8)  # past the reopen window: the next message is a new matter
        api_inbox = await container.db.read(
            lambda c: c.execute(sa.select(inboxes.c.id).where(inboxes.c.channel == "api")).scalar()
        )
        later = await deliver_api(
            container,
            api_inbox,
            {"id": "crm-2", "customer": {"external_id": "u-42"}, "text": "new order question"},
        )
        assert later.conversation_id is not None
        assert later.conversation_id != chat_conversation
        api_conversation = later.conversation_id
        await container.bus.execute(
            lambda tx: send_reply(
                tx,
                container.bus.cfg,
                conversation_id=api_conversation,
                author_id=widget.agent_id,
                text="answering you in the chat",
                channel=Channel.CHAT,
            )
        )
        [event] = await s.events(1)
        now_showing = await conversation_of(container, await visitor_key(container, s))
    assert event["text"] == "answering you in the chat"
    assert now_showing == api_conversation
