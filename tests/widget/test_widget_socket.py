"""The widget's socket protocol (docs/widget.md), over a real server and database:
sessions, messages, acks, and exact, ordered delivery of every event."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from tests.support.widget import ChatSocket, visitor_socket
from tests.widget.conftest import Widget

from threadline.actions.chat import token_digest
from threadline.actions.reads import mark_read
from threadline.actions.replies import send_reply
from threadline.bootstrap import Container
from threadline.core.model import Channel
from threadline.storage.tables import chat_visitors, identities, inbound_receipts, messages

pytestmark = pytest.mark.anyio


async def agent_reply(c: Container, w: Widget, conversation_id: int, text: str) -> int:
    result = await c.bus.execute(
        lambda tx: send_reply(
            tx,
            c.bus.cfg,
            conversation_id=conversation_id,
            author_id=w.agent_id,
            text=text,
            channel=Channel.CHAT,
        )
    )
    return result.message_id


async def conversation_of(c: Container, key: str) -> int:
    found = await c.db.read(
        lambda conn: conn.execute(
            sa.select(chat_visitors.c.conversation_id).where(chat_visitors.c.key == key)
        ).scalar()
    )
    assert found is not None
    return int(found)


async def visitor_key(c: Container, socket: ChatSocket) -> str:
    """The visitor's public key: the value of the chat identity their messages use."""
    digest = token_digest(socket.welcome["token"])
    return str(
        await c.db.read(
            lambda conn: conn.execute(
                sa.select(chat_visitors.c.key).where(chat_visitors.c.token_hash == digest)
            ).scalar()
        )
    )


def cid(n: int) -> str:
    return f"cid-{n:012d}-abcdef"


async def test_a_new_visitor_is_welcomed_with_a_session_and_the_inbox_config(
    container: Container, widget: Widget
) -> None:
    async with visitor_socket(widget.url, widget.key) as s:
        welcome = s.welcome
    assert len(welcome["token"]) >= 43
    assert welcome["seq"] == 0
    assert welcome["visitor"] == {"name": None, "email": None, "verified": False}
    assert welcome["online"] is False  # no agent is online
    assert welcome["config"]["color"] == "#112233"
    assert welcome["config"]["prechat"] == "optional"
    assert "identity_secret" not in welcome["config"]
    stored = await container.db.read(
        lambda conn: conn.execute(sa.select(chat_visitors.c.token_hash)).scalars().all()
    )
    assert len(stored) == 1
    assert welcome["token"] not in stored


async def test_a_message_is_stored_once_acked_and_shown_as_the_visitors_event(
    container: Container, widget: Widget
) -> None:
    async with visitor_socket(widget.url, widget.key) as s:
        ack = await s.message(cid(1), "Where is <b>my</b> order?")
        [event] = await s.events(1)
        key = await visitor_key(container, s)
    assert ack == {"type": "ack", "cid": cid(1), "seq": 1}
    assert event["seq"] == 1
    assert event["kind"] == "message"
    assert event["from"] == "visitor"
    assert event["cid"] == cid(1)
    assert event["author"] is None
    assert event["text"] == "Where is <b>my</b> order?"  # text, for the widget to escape
    row = await container.db.read(
        lambda conn: conn.execute(sa.select(messages.c.channel, messages.c.customer_id)).one()
    )
    assert row.channel == "chat"
    owner = await container.db.read(
        lambda conn: conn.execute(
            sa.select(identities.c.customer_id, identities.c.verified).where(
                identities.c.kind == "chat", identities.c.value == key
            )
        ).one()
    )
    assert owner.customer_id == row.customer_id
    assert owner.verified is True


async def test_a_resent_message_is_stored_once_and_acked_with_the_first_seq(
    container: Container, widget: Widget
) -> None:
    async with visitor_socket(widget.url, widget.key) as s:
        first = await s.message(cid(7), "hello?")
        token = s.welcome["token"]
    # The connection dropped before the widget saw the ack: it resends on a new socket.
    async with visitor_socket(widget.url, widget.key, token=token, since=0) as s:
        [replayed] = await s.events(1)
        again = await s.message(cid(7), "hello?")
        frames = await s.settle()
    assert again["seq"] == first["seq"] == replayed["seq"] == 1
    assert frames == []  # no second event
    count = await container.db.read(
        lambda conn: conn.execute(sa.select(sa.func.count()).select_from(messages)).scalar()
    )
    receipts = await container.db.read(
        lambda conn: conn.execute(sa.select(sa.func.count()).select_from(inbound_receipts)).scalar()
    )
    assert count == 1
    assert receipts == 1


async def test_a_returning_visitor_keeps_their_session_and_history(
    container: Container, widget: Widget
) -> None:
    async with visitor_socket(widget.url, widget.key) as s:
        await s.message(cid(1), "one")
        token = s.welcome["token"]
    async with visitor_socket(widget.url, widget.key, token=token) as s:
        assert s.welcome["token"] == token
        assert s.welcome["seq"] == 1
        [event] = await s.events(1)
    assert event["text"] == "one"
    visitors = await container.db.read(
        lambda conn: conn.execute(sa.select(sa.func.count()).select_from(chat_visitors)).scalar()
    )
    assert visitors == 1


async def test_a_reconnect_with_since_gets_exactly_the_missed_events_in_order(
    container: Container, widget: Widget
) -> None:
    async with visitor_socket(widget.url, widget.key) as s:
        for n in range(1, 4):
            await s.message(cid(n), f"message {n}")
        await s.events(3)
        token = s.welcome["token"]
        key = await visitor_key(container, s)
    conversation_id = await conversation_of(container, key)
    # While the visitor is away: two answers.
    await agent_reply(container, widget, conversation_id, "answer 1")
    await agent_reply(container, widget, conversation_id, "answer 2")
    async with visitor_socket(widget.url, widget.key, token=token, since=3) as s:
        assert s.welcome["seq"] == 5
        frames = await s.settle()
    events = [f for f in frames if f["type"] == "event"]
    assert [(e["seq"], e["from"], e["text"]) for e in events] == [
        (4, "agent", "answer 1"),
        (5, "agent", "answer 2"),
    ]
    assert events[0]["author"] == "Sam Rivera"


async def test_two_sockets_of_one_visitor_each_get_every_event_once(
    container: Container, widget: Widget
) -> None:
    async with visitor_socket(widget.url, widget.key) as a:
        token = a.welcome["token"]
        async with visitor_socket(widget.url, widget.key, token=token) as b:
            await a.message(cid(1), "from tab a")
            key = await visitor_key(container, a)
            conversation_id = await conversation_of(container, key)
            await agent_reply(container, widget, conversation_id, "to both tabs")
            got_a = [f for f in await a.settle() if f["type"] == "event"]
            got_b = [f for f in await b.settle() if f["type"] == "event"]
            # Anything still on its way would have come before the pong.
            got_a += [f for f in await a.settle() if f["type"] == "event"]
            got_b += [f for f in await b.settle() if f["type"] == "event"]
    assert [e["seq"] for e in got_a] == [1, 2]
    assert [e["seq"] for e in got_b] == [1, 2]


async def test_an_agent_reply_reaches_the_open_socket_live_and_becomes_delivered(
    container: Container, widget: Widget
) -> None:
    async with visitor_socket(widget.url, widget.key) as s:
        await s.message(cid(1), "anyone there?")
        await s.events(1)
        conversation_id = await conversation_of(container, await visitor_key(container, s))
        message_id = await agent_reply(container, widget, conversation_id, "Yes, Ana here")
        [event] = await s.events(1)
        await s.settle()  # the writer marks it delivered before it answers the ping
    assert event["from"] == "agent"
    assert event["id"] == str(message_id)
    assert event["seq"] == 2
    status = await container.db.read(
        lambda conn: conn.execute(
            sa.select(messages.c.status, messages.c.recipient).where(messages.c.id == message_id)
        ).one()
    )
    assert status.status == "delivered"


async def test_read_marks_move_both_ways(container: Container, widget: Widget) -> None:
    async with visitor_socket(widget.url, widget.key) as s:
        await s.message(cid(1), "hi")
        conversation_id = await conversation_of(container, await visitor_key(container, s))
        message_id = await agent_reply(container, widget, conversation_id, "hello!")
        await s.events(2)
        await s.send(type="read", seq=2)
        await s.settle()
        status = await container.db.read(
            lambda conn: conn.execute(
                sa.select(messages.c.status).where(messages.c.id == message_id)
            ).scalar()
        )
        assert status == "read"
        # The agent opens the conversation: the widget learns it was read.
        await container.bus.execute(lambda tx: mark_read(tx, conversation_id, widget.agent_id))
        read = await s.next("read")
    assert read == {"type": "read", "seq": 2}


async def test_an_agents_answer_shows_the_visitor_their_messages_were_read(
    container: Container, widget: Widget
) -> None:
    # The agent had the conversation open when the visitor wrote: the page showed
    # the message live, and opening the page (the other read) happened before it.
    async with visitor_socket(widget.url, widget.key) as s:
        await s.message(cid(1), "is the blue kettle in stock?")
        [asked] = await s.events(1)
        conversation_id = await conversation_of(container, await visitor_key(container, s))
        result = await container.bus.execute(
            lambda tx: send_reply(
                tx,
                container.bus.cfg,
                conversation_id=conversation_id,
                author_id=widget.agent_id,
                text="yes, 12 of them",
                channel=Channel.CHAT,
                seen=int(asked["id"]),  # what the agent's screen showed
            )
        )
        [answer] = await s.events(1)
        read = await s.next("read")
    assert answer["id"] == str(result.message_id)
    assert read == {"type": "read", "seq": answer["seq"]}  # "Seen" under the question


async def test_a_read_mark_beyond_the_last_event_counts_only_what_exists(
    container: Container, widget: Widget
) -> None:
    async with visitor_socket(widget.url, widget.key) as s:
        await s.message(cid(1), "hi")
        await s.send(type="read", seq=2**31 - 1)
        await s.settle()
        key = await visitor_key(container, s)
    seen: Any = await container.db.read(
        lambda conn: conn.execute(
            sa.select(chat_visitors.c.visitor_read_seq).where(chat_visitors.c.key == key)
        ).scalar()
    )
    assert seen == 1


async def test_a_since_beyond_the_last_seq_does_not_hide_later_events(widget: Widget) -> None:
    async with visitor_socket(widget.url, widget.key) as s:
        await s.message(cid(1), "one")
        token = s.welcome["token"]
    # A widget remembering a seq this visitor never had (a restored backup, a bug).
    async with visitor_socket(widget.url, widget.key, token=token, since=50) as s:
        ack = await s.message(cid(2), "two")
        [event] = await s.events(1)
    assert ack["seq"] == event["seq"] == 2
