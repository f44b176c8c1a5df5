"""Live chat that continues by email: a reply the visitor left before reading is
mailed to them once (batched), their answer by email lands in the same
conversation and in their chat, and the email they type is theirs at once.

Real parts throughout: the widget over a real socket, the job runner driven by
the fake clock, mail out through a local SMTP relay, and the visitor's answer
into Threadline's own SMTP server.
"""

from __future__ import annotations

import smtplib
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
import pytest
import sqlalchemy as sa
from tests.support.dns import FakeResolver
from tests.support.factories import (
    api_client,
    deliver_email,
    make_email,
    make_email_inbox,
    timeline,
)
from tests.support.servers import Relay, free_port
from tests.support.ui import make_user, sign_in
from tests.support.widget import ChatSocket, relay_senders, visitor_socket
from tests.widget.conftest import Widget
from tests.widget.test_widget_socket import agent_reply, conversation_of, visitor_key

from threadline.actions.chat_mail import follow_up
from threadline.actions.inboxes import update_chat_inbox
from threadline.actions.replies import StaleReply, send_reply
from threadline.bootstrap import Container
from threadline.channels.email.smtp import start_smtp_server
from threadline.clock import FakeClock
from threadline.core.chat_mail import time_zone
from threadline.core.model import Channel
from threadline.storage.tables import (
    chat_visitors,
    customers,
    identities,
    merge_suggestions,
    messages,
)

pytestmark = pytest.mark.anyio

VISITOR = "lena@example.org"
LATER = 121  # seconds: past the default chat_followup_seconds (120)


@pytest.fixture
def senders(relay: tuple[Relay, int]) -> dict[str, Any]:
    return relay_senders(relay)


@pytest.fixture
async def smtp(container: Container) -> AsyncIterator[int]:
    """Threadline's own SMTP server (the MX for the support address); yields its port."""
    port = free_port()
    server = await start_smtp_server(
        container.bus,
        "127.0.0.1",
        port,
        max_bytes=container.settings.email_max_bytes,
        resolver=FakeResolver(),
    )
    yield port
    server.close()
    await server.wait_closed()


async def chat(s: ChatSocket, c: Container, text: str, cid: str) -> tuple[str, int]:
    """The visitor says something; returns their key and their conversation."""
    await s.message(cid, text)
    await s.events(1)
    key = await visitor_key(c, s)
    return key, await conversation_of(c, key)


async def visitor_row(c: Container, key: str) -> Any:
    return await c.db.read(
        lambda conn: conn.execute(sa.select(chat_visitors).where(chat_visitors.c.key == key)).one()
    )


async def outbound_emails(c: Container) -> list[Any]:
    return list(
        await c.db.read(
            lambda conn: conn.execute(
                sa.select(messages)
                .where(messages.c.channel == "email", messages.c.direction == "outbound")
                .order_by(messages.c.id)
            ).all()
        )
    )


async def test_replies_left_unread_are_mailed_once_in_one_mail(
    container: Container, widget: Widget, clock: FakeClock, relay: tuple[Relay, int]
) -> None:
    c, (mailbox, _) = container, relay
    await make_email_inbox(c)
    async with visitor_socket(widget.url, widget.key) as s:
        await s.send(type="profile", name="Lena", email=VISITOR)
        key, conversation_id = await chat(
            s, c, "is the blue one in stock?", "followup-000001-000000"
        )
    # The visitor has closed the page; three quick replies.
    await agent_reply(c, widget, conversation_id, "Let me check.")
    clock.advance(seconds=10)
    await agent_reply(c, widget, conversation_id, "Yes, two left <in> the shop.")
    clock.advance(seconds=10)
    await agent_reply(c, widget, conversation_id, "Shall I keep one for you?")
    clock.advance(seconds=LATER - 20)
    await c.runner.run_due()
    assert mailbox.received == []  # the last reply is younger than the delay: wait for it
    clock.advance(seconds=20)
    await c.runner.run_due()
    assert len(mailbox.received) == 1
    _mail_from, rcpt, _ = mailbox.received[0]
    assert rcpt == [VISITOR]
    sent = mailbox.parsed(0)
    assert sent["From"].addresses[0].addr_spec == "support@acme.test"
    assert "Sam Rivera" in str(sent["From"])  # the agent who wrote the replies
    assert sent["Reply-To"].addresses[0].username.startswith("reply+")
    assert f"[#{conversation_id}]" in sent["Subject"]
    body = sent.get_body(("plain",)).get_content()
    assert body.index("Let me check.") < body.index("Yes, two left <in> the shop.")
    assert "Shall I keep one for you?" in body
    assert "https://shop.example" in body  # back to the page they chatted on
    assert "is the blue one in stock?" not in body  # their own words are not news to them
    # A real outbound email of the conversation, delivered, on the timeline.
    [email] = await outbound_emails(c)
    assert (email.conversation_id, email.status, email.recipient) == (
        conversation_id,
        "sent",
        VISITOR,
    )
    assert sent["Message-ID"] == f"<{email.provider_message_id}>"
    entries = await timeline(c, email.customer_id)
    [entry] = [e for e in entries if e["message"] and e["message"]["id"] == email.id]
    assert entry["data"]["followup"] is True
    await make_user(c, "ada@acme.test")
    async with api_client(c) as web:
        await sign_in(web, "ada@acme.test")
        page = (await web.get(f"/conversations/{conversation_id}")).text
    assert "Follow-up: the visitor left the chat before reading" in page
    assert "Yes, two left &lt;in&gt; the shop." in page
    # Later runs, and the job run again by hand (a lost completion), mail nothing more.
    clock.advance(seconds=3600)
    await c.runner.run_due()
    v = await visitor_row(c, key)
    again = await c.bus.execute(
        lambda tx: follow_up(
            tx,
            c.bus.cfg,
            visitor_id=v.id,
            seq=v.last_seq,
            check=0,
            business=None,
            zone=time_zone(None),
        )
    )
    assert again == "read"
    assert len(mailbox.received) == 1


async def test_a_reply_the_visitor_read_is_not_mailed(
    container: Container, widget: Widget, clock: FakeClock, relay: tuple[Relay, int]
) -> None:
    c = container
    await make_email_inbox(c)
    async with visitor_socket(widget.url, widget.key) as s:
        await s.send(type="profile", email=VISITOR)
        _key, conversation_id = await chat(s, c, "hello", "followup-read-01-000000")
        await agent_reply(c, widget, conversation_id, "Hi Lena!")
        [reply] = await s.events(1)
        await s.send(type="read", seq=reply["seq"])
        await s.settle()
    clock.advance(seconds=LATER)
    await c.runner.run_due()
    assert relay[0].received == []
    assert await outbound_emails(c) == []


async def test_no_mail_while_the_visitor_is_on_the_page_and_one_after_they_leave(
    container: Container, widget: Widget, clock: FakeClock, relay: tuple[Relay, int]
) -> None:
    c, (mailbox, _) = container, relay
    await make_email_inbox(c)
    async with visitor_socket(widget.url, widget.key) as s:
        await s.send(type="profile", email=VISITOR)
        _, conversation_id = await chat(s, c, "hello", "followup-here-01-000000")
        await agent_reply(c, widget, conversation_id, "Hi! One moment.")
        await s.events(1)  # shown, but the chat is minimized: not read
        clock.advance(seconds=LATER)
        await s.settle()  # the widget's keep-alive: still on the page
        await c.runner.run_due()
        assert mailbox.received == []
    clock.advance(seconds=LATER)  # the page closed; nothing heard since
    await c.runner.run_due()
    assert len(mailbox.received) == 1
    assert "Hi! One moment." in mailbox.parsed(0).get_body(("plain",)).get_content()


async def test_no_mail_for_a_visitor_without_an_email(
    container: Container, widget: Widget, clock: FakeClock, relay: tuple[Relay, int]
) -> None:
    c = container
    await make_email_inbox(c)
    async with visitor_socket(widget.url, widget.key) as s:
        key, conversation_id = await chat(s, c, "just browsing", "followup-anon-01-000000")
    await agent_reply(c, widget, conversation_id, "Happy to help if you need us.")
    clock.advance(seconds=LATER)
    await c.runner.run_due()
    assert relay[0].received == []
    assert await outbound_emails(c) == []
    # The reply is still owed: an email given afterwards lets the next check mail it.
    assert (await visitor_row(c, key)).mailed_seq == 0


async def test_a_profile_email_after_the_last_message_still_gets_the_reply(
    container: Container, widget: Widget, clock: FakeClock, relay: tuple[Relay, int]
) -> None:
    c = container
    await make_email_inbox(c)
    async with visitor_socket(widget.url, widget.key) as s:
        key, conversation_id = await chat(s, c, "call me back?", "followup-late-01-000000")
        await s.send(type="profile", name="Lena", email=VISITOR)  # the offline form
        await s.settle()
    # At once: the email is a claimed identity of the visitor's customer record.
    customer_id = (await visitor_row(c, key)).customer_id
    owned = await c.db.read(
        lambda conn: conn.execute(
            sa.select(identities.c.kind, identities.c.value, identities.c.verified).where(
                identities.c.customer_id == customer_id, identities.c.kind == "email"
            )
        ).all()
    )
    assert [tuple(r) for r in owned] == [("email", VISITOR, False)]
    await agent_reply(c, widget, conversation_id, "Sure, what number?")
    clock.advance(seconds=LATER)
    await c.runner.run_due()
    assert relay[0].received[0][1] == [VISITOR]


async def test_a_profile_email_of_someone_else_is_a_merge_suggestion_at_once(
    container: Container, widget: Widget
) -> None:
    c = container
    inbox_id = await make_email_inbox(c)
    raw, _ = make_email(sender="ana@example.com", subject="my order")
    ana = (await deliver_email(c, inbox_id, raw)).customer_id
    async with visitor_socket(widget.url, widget.key) as s:
        key, _ = await chat(s, c, "hi, it's Ana", "followup-claim-1-000000")
        await s.send(type="profile", email="ana@example.com")
        await s.settle()
    visitor_customer = (await visitor_row(c, key)).customer_id
    assert visitor_customer != ana
    found = await c.db.read(
        lambda conn: conn.execute(
            sa.select(
                merge_suggestions.c.customer_id,
                merge_suggestions.c.other_customer_id,
                merge_suggestions.c.identity,
                merge_suggestions.c.status,
            )
        ).all()
    )
    assert [tuple(r) for r in found] == [(visitor_customer, ana, "email:ana@example.com", "open")]
    owner = await c.db.read(
        lambda conn: conn.execute(
            sa.select(identities.c.customer_id).where(identities.c.value == "ana@example.com")
        ).scalar_one()
    )
    merged = await c.db.read(
        lambda conn: conn.execute(
            sa.select(customers.c.merged_into_id).where(customers.c.id == visitor_customer)
        ).scalar()
    )
    assert (owner, merged) == (ana, None)


async def smtp_send(port: int, raw: bytes, *, to: str, mail_from: str) -> Any:
    def go() -> Any:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            return client.sendmail(mail_from, [to], raw)

    return await anyio.to_thread.run_sync(go)


async def test_the_visitors_email_answer_continues_the_conversation_and_their_chat(
    container: Container,
    widget: Widget,
    clock: FakeClock,
    relay: tuple[Relay, int],
    smtp: int,
) -> None:
    c, (mailbox, _) = container, relay
    await make_email_inbox(c)
    billing = await make_email_inbox(c, "billing@acme.test")
    await c.bus.execute(
        lambda tx: update_chat_inbox(
            tx,
            widget.inbox_id,
            {"followup_inbox_id": billing},
            secret=c.bus.cfg.secret_key,
            actor="test",
        )
    )
    await c.bus.reload_inboxes()
    async with visitor_socket(widget.url, widget.key) as s:
        await s.send(type="profile", email=VISITOR)
        key, conversation_id = await chat(s, c, "was I charged twice?", "followup-mail-01-000000")
        token = s.welcome["token"]
    await agent_reply(c, widget, conversation_id, "Only once; the second is a hold.")
    clock.advance(seconds=LATER)
    await c.runner.run_due()
    sent = mailbox.parsed(0)
    assert sent["From"].addresses[0].addr_spec == "billing@acme.test"  # the follow-up inbox
    reply_to = sent["Reply-To"].addresses[0].addr_spec
    assert reply_to.startswith("reply+")
    assert reply_to.endswith("@acme.test")

    # The visitor answers from their mail client, which keeps only our Reply-To.
    answer, _ = make_email(
        sender=VISITOR,
        name="Lena",
        subject="a new subject",
        body="Thanks! When does the hold go away?",
        to=reply_to,
    )
    assert await smtp_send(smtp, answer, to=reply_to, mail_from=VISITOR) == {}
    last = await c.db.read(
        lambda conn: conn.execute(sa.select(messages).order_by(messages.c.id.desc()).limit(1)).one()
    )
    assert (last.channel, last.direction, last.conversation_id) == (
        "email",
        "inbound",
        conversation_id,
    )
    # Back on the page, the widget shows the whole exchange, the email answer too.
    async with visitor_socket(widget.url, widget.key, token=token) as s:
        events = await s.events(3)
    assert [(e["from"], e["text"]) for e in events] == [
        ("visitor", "was I charged twice?"),
        ("agent", "Only once; the second is a hold."),
        ("visitor", "Thanks! When does the hold go away?"),
    ]
    assert (await visitor_row(c, key)).conversation_id == conversation_id


async def test_someone_elses_mail_into_the_conversation_never_reaches_the_widget(
    container: Container, widget: Widget, clock: FakeClock, relay: tuple[Relay, int], smtp: int
) -> None:
    c, (mailbox, _) = container, relay
    await make_email_inbox(c)
    async with visitor_socket(widget.url, widget.key) as s:
        await s.send(type="profile", email=VISITOR)
        key, conversation_id = await chat(s, c, "hello", "followup-other-1-000000")
        token = s.welcome["token"]
    await agent_reply(c, widget, conversation_id, "Hi!")
    clock.advance(seconds=LATER)
    await c.runner.run_due()
    reply_to = mailbox.parsed(0)["Reply-To"].addresses[0].addr_spec
    # The mail was forwarded; a colleague answers from their own address.
    other, _ = make_email(
        sender="boss@example.org", subject="fwd", body="who is this?", to=reply_to
    )
    await smtp_send(smtp, other, to=reply_to, mail_from="boss@example.org")
    last = await c.db.read(
        lambda conn: conn.execute(sa.select(messages).order_by(messages.c.id.desc()).limit(1)).one()
    )
    assert last.conversation_id == conversation_id  # the signed address threads it
    async with visitor_socket(widget.url, widget.key, token=token) as s:
        shown = await s.events(2)
        rest = await s.settle()
    assert [e["text"] for e in shown] == ["hello", "Hi!"]
    assert [f for f in rest if f["type"] == "event"] == []
    assert (await visitor_row(c, key)).last_seq == 2


async def test_a_follow_up_mail_does_not_turn_another_agents_composer_stale(
    container: Container, widget: Widget, clock: FakeClock, relay: tuple[Relay, int]
) -> None:
    c = container
    await make_email_inbox(c)
    ada = await make_user(c, "ada@acme.test")
    async with visitor_socket(widget.url, widget.key) as s:
        await s.send(type="profile", email=VISITOR)
        _, conversation_id = await chat(s, c, "do you ship to Norway?", "followup-stale-0000000")
        token = s.welcome["token"]
    seen = await agent_reply(c, widget, conversation_id, "We do, in 3-5 days.")
    # Ada opened the conversation and is writing; the visitor had left, so Sam's
    # reply is mailed to them meanwhile.
    clock.advance(seconds=LATER)
    await c.runner.run_due()
    assert len(relay[0].received) == 1

    def ada_replies(tx: Any) -> int:
        return send_reply(
            tx,
            c.bus.cfg,
            conversation_id=conversation_id,
            author_id=ada,
            text="And customs are included.",
            channel=Channel.CHAT,
            seen=seen,
        ).message_id

    assert await c.bus.execute(ada_replies)  # the mail re-sent what she saw: not stale
    async with visitor_socket(widget.url, widget.key, token=token) as s:
        await s.message("followup-stale-0000001", "and to Iceland?")
    with pytest.raises(StaleReply):  # something new from the visitor is
        await c.bus.execute(ada_replies)
