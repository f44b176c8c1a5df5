"""What an agent sees of a chat visitor: the channel and the customer, never the
widget's random visitor key (it means nothing to a person and is the visitor's
address on the chat)."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa
from tests.support.ui import make_user, sign_in
from tests.support.widget import visitor_socket
from tests.widget.conftest import Widget
from tests.widget.test_widget_socket import conversation_of, visitor_key

from threadline.actions.replies import send_reply
from threadline.bootstrap import Container
from threadline.core.model import Channel
from threadline.storage.tables import conversations

pytestmark = pytest.mark.anyio


async def test_the_workspace_never_shows_the_visitor_key(
    container: Container, widget: Widget
) -> None:
    async with visitor_socket(widget.url, widget.key) as s:
        await s.message("key-hidden-00001", "where is my parcel?")
        key = await visitor_key(container, s)
        conversation_id = await conversation_of(container, key)
        await container.bus.execute(
            lambda tx: send_reply(
                tx,
                container.bus.cfg,
                conversation_id=conversation_id,
                author_id=widget.agent_id,
                text="on its way",
                channel=Channel.CHAT,
            )
        )
        await s.events(1)
    await make_user(container, "viewer@acme.test", role="agent")
    async with httpx.AsyncClient(base_url=widget.url) as client:
        assert (await sign_in(client, "viewer@acme.test")).status_code == 302
        page = await client.get(f"/conversations/{conversation_id}")
        customer = await client.get(f"/customers/{await _customer(container, conversation_id)}")
    assert page.status_code == 200
    assert "where is my parcel?" in page.text
    assert "on its way" in page.text
    assert '<option value="chat"' in page.text  # the agent can answer on the chat
    assert key not in page.text
    assert customer.status_code == 200
    assert "website visitor" in customer.text
    assert key not in customer.text


async def _customer(c: Container, conversation_id: int) -> int:
    return int(
        await c.db.read(
            lambda conn: conn.execute(
                sa.select(conversations.c.customer_id).where(conversations.c.id == conversation_id)
            ).scalar_one()
        )
    )
