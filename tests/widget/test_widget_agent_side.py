"""What agents see of a chat: the rating on the timeline, the visitor typing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tests.support.factories import api_client, make_inbox
from tests.support.ui import make_user, sign_in

from threadline.actions.chat import open_session, record_csat
from threadline.actions.conversation_merge import merge_conversations
from threadline.actions.conversations import update_conversation
from threadline.actions.receipts import Payload, ReceiptOutcome
from threadline.bootstrap import Container
from threadline.channels.chat.parse import encode_payload
from threadline.core.model import ConversationStatus
from threadline.ports import Delivery
from threadline.queries.scope import EVERYTHING
from threadline.storage import inbound as store
from threadline.storage.tables import inboxes
from threadline.web.app import create_app
from threadline.web.ui.hub import Hub, Tab
from threadline.web.ui.render import describe

pytestmark = pytest.mark.anyio


async def rated_chat(c: Container) -> int:
    """A visitor chats, the chat is resolved and rated: through the actions the
    widget's endpoints call."""
    inbox_id = await make_inbox(c, "chat", "Acme chat", "chat_acme", {})
    session = await c.bus.execute(lambda tx: open_session(tx, inbox_id=inbox_id, token=None))
    body = encode_payload(visitor=session.key, cid="agent-side-00000001", text="hello <team>")
    outcome = await c.bus.ingest(Payload(inbox_id, "chat", body, {}))
    assert outcome.status == "processed"
    conversation_id = outcome.conversation_id
    assert conversation_id is not None
    await c.bus.execute(
        lambda tx: update_conversation(
            tx, conversation_id, actor_id=None, status=ConversationStatus.RESOLVED
        )
    )
    await c.bus.execute(lambda tx: record_csat(tx, session.visitor_id, 2, "slow <b>reply</b>"))
    return conversation_id


async def test_the_rating_shows_on_the_conversation_page_as_escaped_text(
    container: Container,
) -> None:
    conversation_id = await rated_chat(container)
    await make_user(container, "ada@acme.test")
    async with api_client(container) as web:
        await sign_in(web, "ada@acme.test")
        page = (await web.get(f"/conversations/{conversation_id}")).text
    assert "The customer rated the chat 2 out of 5: “slow &lt;b&gt;reply&lt;/b&gt;”" in page
    assert 'id="visitor-typing"' in page
    assert "hello &lt;team&gt;" in page


def test_a_rating_without_a_comment_reads_plainly() -> None:
    entry = {"kind": "csat", "data": {"score": 5, "comment": None}}
    assert describe(entry, {}) == "The customer rated the chat 5 out of 5"


async def test_the_visitor_typing_reaches_the_tabs_showing_the_conversation(
    container: Container,
) -> None:
    conversation_id = await rated_chat(container)
    hub = Hub(create_app(container, manage_lifecycle=False), container)
    delivery = Delivery(
        1,
        f"conversation:{conversation_id}",
        {"type": "visitor_typing", "conversation_id": conversation_id, "visitor_id": 1, "on": True},
    )
    rendered = await hub.render(delivery)
    assert rendered is not None
    watching = Tab(user_id=1, role="agent", scope=EVERYTHING, conversation_id=conversation_id)
    elsewhere = Tab(user_id=1, role="agent", scope=EVERYTHING, conversation_id=conversation_id + 1)
    [push] = rendered.deliver(watching, 1)
    assert push.event == "fragment"
    assert 'id="visitor-typing"' in push.data
    assert "is typing in the chat" in push.data
    assert rendered.deliver(elsewhere, 1) == []


async def test_a_chat_payload_naming_someone_elses_conversation_does_not_join_it(
    container: Container,
) -> None:
    c = container
    other = await rated_chat(c)  # another visitor's conversation (resolved, reopenable)
    inbox_id = await c.db.read(
        lambda conn: conn.execute(
            sa.select(inboxes.c.id).where(inboxes.c.channel == "chat")
        ).scalar_one()
    )
    session = await c.bus.execute(lambda tx: open_session(tx, inbox_id=inbox_id, token=None))
    body = encode_payload(
        visitor=session.key, cid="hint-elsewhere-0001", text="let me in", conversation_id=other
    )
    outcome = await c.bus.ingest(Payload(inbox_id, "chat", body, {}))
    assert outcome.status == "processed"
    assert outcome.conversation_id is not None
    assert outcome.conversation_id != other


async def test_after_a_merge_the_visitors_next_message_continues_the_target(
    container: Container,
) -> None:
    c = container
    inbox_id = await make_inbox(c, "chat", "Acme chat", "chat_acme", {})
    session = await c.bus.execute(lambda tx: open_session(tx, inbox_id=inbox_id, token=None))

    async def say(cid: str, text: str) -> ReceiptOutcome:
        body = encode_payload(visitor=session.key, cid=cid, text=text)
        return await c.bus.ingest(Payload(inbox_id, "chat", body, {}))

    first = await say("merge-test-000001", "first")
    assert first.conversation_id is not None
    assert first.customer_id is not None
    source, customer_id = first.conversation_id, first.customer_id
    target = await c.bus.execute(
        lambda tx: store.insert_conversation(
            tx,
            customer_id=customer_id,
            inbox_id=inbox_id,
            subject="older matter",
            subject_key="older matter",
            channel="chat",
            clocks={"first_response_due_at": tx.now, "resolution_due_at": None},
        )
    )
    await c.bus.execute(
        lambda tx: merge_conversations(tx, source_id=source, target_id=target, actor_id=None)
    )
    later = await say("merge-test-000002", "second")
    assert later.conversation_id == target
