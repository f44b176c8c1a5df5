"""queries/chat.py's driver statements read what Core stored, the same on SQLite
and PostgreSQL: a visitor's state, their events (with files, authors and data)
and the seq a message got."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from tests.support.factories import make_agent, make_inbox
from tests.support.inbox import reply

from threadline.actions.chat import (
    VerifiedIdentity,
    append_event,
    open_session,
    token_digest,
)
from threadline.actions.chat_uploads import store_upload
from threadline.actions.receipts import Payload
from threadline.bootstrap import Container
from threadline.channels.chat.parse import encode_payload
from threadline.clock import FakeClock
from threadline.queries import chat as q
from threadline.storage.db import Tx

pytestmark = pytest.mark.anyio

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass(frozen=True)
class Chat:
    inbox_id: int
    visitor_id: int
    token: str
    conversation_id: int
    plain: int  # the visitor's message without a file
    with_file: int  # and with one
    agent: int


async def chat(c: Container) -> Chat:
    """A signed-in visitor writes twice (the second time with a picture); an agent answers."""
    inbox_id = await make_inbox(c, "chat", "Acme chat", "chat_acme", {})
    agent, _ = await make_agent(c)
    ana = VerifiedIdentity("u-42", "ana@example.com", "Ana Souza")
    session = await c.bus.execute(
        lambda tx: open_session(tx, inbox_id=inbox_id, token=None, identity=ana)
    )
    upload = await c.bus.execute(
        lambda tx: store_upload(
            tx,
            inbox_id=inbox_id,
            visitor_key=session.key,
            filename="shot.png",
            content_type="image/png",
            data=PNG,
        )
    )
    ids = []
    for cid, uploads in (("cid-000000000001", []), ("cid-000000000002", [upload])):
        body = encode_payload(visitor=session.key, cid=cid, text=f"hello {cid}", uploads=uploads)
        out = await c.bus.ingest(Payload(inbox_id, "chat", body, {}))
        assert out.status == "processed", out
        assert out.message_id is not None
        assert out.conversation_id is not None
        ids.append(out.message_id)
    conversation_id = out.conversation_id
    await reply(c, conversation_id, agent, "Thanks, looking")
    return Chat(inbox_id, session.visitor_id, session.token, conversation_id, *ids, agent)


async def test_a_visitors_state_reads_the_same_by_id_and_by_token(
    container: Container,
) -> None:
    c = container
    ch = await chat(c)
    by_id = await c.db.read_small(lambda conn: q.visitor_state(conn, ch.visitor_id))
    by_token = await c.db.read_small(lambda conn: q.visitor_by_token(conn, token_digest(ch.token)))
    assert by_id == by_token
    assert by_id is not None
    assert by_id.id == ch.visitor_id
    assert by_id.inbox_id == ch.inbox_id
    assert (by_id.name, by_id.email, by_id.external_id) == ("Ana Souza", "ana@example.com", "u-42")
    assert by_id.verified is True  # a bool, not SQLite's 1
    assert by_id.conversation_id == ch.conversation_id
    assert (by_id.last_seq, by_id.visitor_read_seq, by_id.agent_read_seq) == (3, 0, 0)
    assert await c.db.read_small(lambda conn: q.visitor_state(conn, ch.visitor_id + 1)) is None
    missing = await c.db.read_small(lambda conn: q.visitor_by_token(conn, token_digest("x")))
    assert missing is None


async def test_events_after_carry_authors_files_data_and_times(
    container: Container, clock: FakeClock
) -> None:
    c = container
    ch = await chat(c)
    await c.bus.execute(lambda tx: append_event(tx, ch.visitor_id, "resolved", data={"by": "Sam"}))
    events = await c.db.read_small(lambda conn: q.events_after(conn, ch.visitor_id, 0))
    assert [(e.seq, e.kind, e.message_id) for e in events] == [
        (1, "message", ch.plain),
        (2, "message", ch.with_file),
        (3, "message", events[2].message_id),
        (4, "resolved", None),
    ]
    first, with_file, answer, resolved = events
    assert all(e.at == clock.now() and e.at.utcoffset() is not None for e in events)
    assert (first.direction, first.author_type, first.author_name) == ("inbound", "customer", None)
    assert (first.text, first.status) == ("hello cid-000000000001", "received")
    assert first.cid == "cid-000000000001"
    assert (first.data, first.attachments) == ({}, ())
    [file] = with_file.attachments
    assert (file["name"], file["type"], file["size"]) == ("shot.png", "image/png", len(PNG))
    assert isinstance(file["id"], int)
    assert (answer.direction, answer.author_type, answer.author_name) == (
        "outbound",
        "agent",
        "Sam Rivera",
    )
    assert (answer.text, answer.cid, answer.attachments) == ("Thanks, looking", None, ())
    assert (resolved.data, resolved.text, resolved.direction) == ({"by": "Sam"}, None, None)
    after = await c.db.read_small(lambda conn: q.events_after(conn, ch.visitor_id, 2, limit=1))
    assert after == [answer]


async def test_a_page_of_events_holds_one_to_max_page(container: Container) -> None:
    c = container
    ch = await chat(c)

    def many(tx: Tx) -> None:
        for _ in range(q.MAX_PAGE):
            append_event(tx, ch.visitor_id, "resolved")

    await c.bus.execute(many)
    page = await c.db.read_small(lambda conn: q.events_after(conn, ch.visitor_id, 0, limit=10_000))
    assert [e.seq for e in page] == list(range(1, q.MAX_PAGE + 1))
    one = await c.db.read_small(lambda conn: q.events_after(conn, ch.visitor_id, 5, limit=0))
    assert [e.seq for e in one] == [6]


async def test_event_seq_is_the_visitors_event_for_that_message(container: Container) -> None:
    c = container
    ch = await chat(c)
    seq = await c.db.read_small(lambda conn: q.event_seq(conn, ch.visitor_id, ch.with_file))
    assert seq == 2
    other = ch.visitor_id + 1
    assert await c.db.read_small(lambda conn: q.event_seq(conn, other, ch.with_file)) is None
