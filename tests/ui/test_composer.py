"""The workspace composer and actions, through the forms a browser posts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from tests.channels.meta.support import WA_ID, fixture, make_meta_inbox, post_meta
from tests.support.factories import api_client, deliver_email, make_email, make_email_inbox
from tests.support.ui import csrf_token, make_user, sign_in

from threadline.actions.delivery import set_delivery_status
from threadline.actions.replies import send_reply
from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.core.model import DeliveryStatus
from threadline.storage.tables import conversations, jobs, messages, sandbox_outbox

pytestmark = pytest.mark.anyio


async def _signed_in(client: httpx.AsyncClient, c: Container) -> str:
    await make_user(c, "ada@acme.test", role="agent")
    assert (await sign_in(client, "ada@acme.test")).status_code == 302
    return await csrf_token(client, "/inbox")


async def _post(client: httpx.AsyncClient, path: str, token: str, **form: str) -> httpx.Response:
    return await client.post(
        path, data={**form, "_csrf_token": token}, headers={"HX-Request": "true"}
    )


async def _rows(c: Container, query: Any) -> list[Any]:
    return await c.db.read(lambda conn: conn.execute(query).all())


async def test_a_whatsapp_reply_outside_the_window_goes_as_the_template_the_agent_named(
    container: Container, clock: FakeClock, served: str
) -> None:
    c = container
    await make_meta_inbox(c, "whatsapp")
    async with api_client(c) as client:
        assert (await post_meta(client, fixture("whatsapp_text"))).status_code == 200
        [conv] = await _rows(c, sa.select(conversations))
        clock.advance(hours=25)
        token = await _signed_in(client, c)
        page = await client.get(f"/conversations/{conv.id}")
        assert 'data-template="1"' in page.text  # the picker offers the template fallback
        refused = await _post(
            client,
            f"/ui/conversations/{conv.id}/reply",
            token,
            mode="reply",
            channel="whatsapp",
            text="Your order shipped",
        )
        assert refused.status_code == 422
        assert "template" in refused.text
        sent = await _post(
            client,
            f"/ui/conversations/{conv.id}/reply",
            token,
            mode="reply",
            channel="whatsapp",
            text="Your order #4417 has shipped",
            template_name="order_update",
            template_language="en",
            template_parameters="4417\n",
        )
        assert sent.status_code == 200, sent.text
    # The delivery, and the 24-hour resolution target's warning and breach, all due
    assert await c.runner.run_due() == 3
    [out] = await _rows(c, sa.select(sandbox_outbox))
    assert out.request["to"] == WA_ID
    assert out.request["template"]["name"] == "order_update"
    assert out.request["template"]["components"][0]["parameters"] == [
        {"type": "text", "text": "4417"}
    ]


async def test_a_reply_written_before_someone_else_answered_is_refused_and_kept(
    container: Container,
) -> None:
    c = container
    inbox = await make_email_inbox(c)
    raw, _ = make_email(body="Is my refund coming?")
    first = await deliver_email(c, inbox, raw)
    async with api_client(c) as client:
        token = await _signed_in(client, c)
        page = await client.get(f"/conversations/{first.conversation_id}")
        seen = page.text.split('name="seen" value="', 1)[1].split('"', 1)[0]
        # A colleague answers while Ada writes.
        await c.bus.execute(
            lambda tx: send_reply(
                tx,
                c.bus.cfg,
                conversation_id=first.conversation_id,
                author_id=None,
                text="It is on its way.",
            )
        )
        stale = await _post(
            client,
            f"/ui/conversations/{first.conversation_id}/reply",
            token,
            mode="reply",
            channel="email",
            text="Let me check for you",
            seen=seen,
        )
        assert stale.status_code == 409
        assert "Let me check for you" in stale.text  # the draft comes back
        assert f'name="seen" value="{seen}"' in stale.text  # still unacknowledged
        # A note is never held back.
        note = await _post(
            client,
            f"/ui/conversations/{first.conversation_id}/reply",
            token,
            mode="note",
            text="Colleague already answered",
            seen=seen,
        )
        assert note.status_code == 200
    texts = [m.text for m in await _rows(c, sa.select(messages).order_by(messages.c.id))]
    assert "Let me check for you" not in texts
    assert "Colleague already answered" in texts


async def test_a_failed_reply_shows_once_with_its_reason_and_retry_queues_it_again(
    container: Container,
) -> None:
    c = container
    inbox = await make_email_inbox(c)
    raw, _ = make_email(body="Hello?")
    first = await deliver_email(c, inbox, raw)
    result = await c.bus.execute(
        lambda tx: send_reply(
            tx, c.bus.cfg, conversation_id=first.conversation_id, author_id=None, text="Hi!"
        )
    )
    await c.bus.execute(
        lambda tx: set_delivery_status(
            tx, result.message_id, DeliveryStatus.FAILED, error="550 mailbox unavailable"
        )
    )
    async with api_client(c) as client:
        token = await _signed_in(client, c)
        page = await client.get(f"/conversations/{first.conversation_id}")
        assert page.text.count("550 mailbox unavailable") == 1
        assert page.text.count(f"/ui/messages/{result.message_id}/retry") >= 1
        again = await _post(client, f"/ui/messages/{result.message_id}/retry", token)
        assert again.status_code == 204
    [msg] = await _rows(c, sa.select(messages).where(messages.c.id == result.message_id))
    assert (msg.status, msg.error) == ("queued", None)
    keys = [j.idempotency_key for j in await _rows(c, sa.select(jobs))]
    assert f"deliver:{result.message_id}:retry:1" in keys
