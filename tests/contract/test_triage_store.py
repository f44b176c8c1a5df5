"""Every inbound message is triaged in its own transaction: the decision is stored,
the conversation gets its category, GET /api/v1/conversations/{id} shows it, and an
agent's correction is recorded (who, when, from → to) and put on the timeline."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support.api import auth
from tests.support.factories import (
    api_client,
    deliver_email,
    make_agent,
    make_api_inbox,
    make_email,
    make_email_inbox,
    timeline,
)
from tests.support.inbox import write

from threadline.bootstrap import Container
from threadline.storage.tables import conversations, triage_decisions

pytestmark = pytest.mark.anyio


async def _decisions(c: Container, cid: int) -> list[dict[str, Any]]:
    def read(conn: sa.Connection) -> list[dict[str, Any]]:
        q = sa.select(triage_decisions).where(triage_decisions.c.conversation_id == cid)
        return [dict(r._mapping) for r in conn.execute(q.order_by(triage_decisions.c.id))]

    return await c.db.read(read)


async def _category(c: Container, cid: int) -> str | None:
    return await c.db.read(
        lambda conn: conn.execute(
            sa.select(conversations.c.category).where(conversations.c.id == cid)
        ).scalar()
    )


async def _get(c: Container, token: str, cid: int) -> dict[str, Any]:
    async with api_client(c) as client:
        r = await client.get(f"/api/v1/conversations/{cid}", headers=auth(token))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_an_inbound_message_is_triaged_and_shown_on_its_conversation(
    container: Container,
) -> None:
    c = container
    inbox = await make_api_inbox(c)
    _, token = await make_agent(c, role="agent")
    out = await write(c, inbox, "ana", "My card was declined and I need this today")
    assert out.conversation_id is not None
    [stored] = await _decisions(c, out.conversation_id)
    assert (stored["category"], stored["urgent"], stored["sensitive"]) == ("billing", True, False)
    assert await _category(c, out.conversation_id) == "billing"

    triage = (await _get(c, token, out.conversation_id))["triage"]
    assert triage["category"] == "billing"
    assert triage["urgent"] is True
    assert triage["message_id"] == stored["message_id"]
    assert triage["corrected_by_id"] is None
    # An API customer has no phone: the urgent answer goes where they wrote.
    assert triage["recommended_channel"] == "api"
    assert "matched 'declined' → billing, urgent" in triage["reasons"]


async def test_the_latest_message_decides(container: Container) -> None:
    c = container
    inbox = await make_api_inbox(c)
    _, token = await make_agent(c, role="agent")
    first = await write(c, inbox, "bob", "the site is down, nothing works")
    again = await write(c, inbox, "bob", "all sorted now, thanks! one question about pricing")
    assert first.conversation_id == again.conversation_id
    assert again.conversation_id is not None
    triage = (await _get(c, token, again.conversation_id))["triage"]
    assert (triage["category"], triage["urgent"]) == ("sales", False)
    assert len(await _decisions(c, again.conversation_id)) == 2


async def test_an_email_is_triaged_with_its_subject_and_its_attachment(
    container: Container,
) -> None:
    c = container
    inbox = await make_email_inbox(c)
    raw, _ = make_email(subject="Wrong item received", body="Hello, see the photo.")
    mail = message_from_bytes(raw, policy=policy.default)
    assert isinstance(mail, EmailMessage)
    mail.add_attachment(b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image", "png", filename="photo.png")
    out = await deliver_email(c, inbox, mail.as_bytes())
    assert out.conversation_id is not None
    [stored] = await _decisions(c, out.conversation_id)
    assert (stored["category"], stored["urgent"]) == ("logistics", True)
    assert "1 attached file" in stored["reasons"]


async def test_an_agent_corrects_triage_and_the_correction_is_recorded(
    container: Container,
) -> None:
    c = container
    inbox = await make_api_inbox(c)
    sam, token = await make_agent(c, role="agent")
    out = await write(c, inbox, "cleo", "where is my order? it was supposed to come monday")
    cid = out.conversation_id
    assert cid is not None
    async with api_client(c) as client:
        r = await client.patch(
            f"/api/v1/conversations/{cid}/triage",
            json={"category": "billing", "urgent": True},
            headers=auth(token),
        )
        assert r.status_code == 200, r.text
        same = await client.patch(
            f"/api/v1/conversations/{cid}/triage",
            json={"category": "billing"},
            headers=auth(token),
        )
        assert same.status_code == 200, same.text
    body = r.json()
    assert (body["category"], body["urgent"], body["category_by_agent"]) == ("billing", True, True)
    assert body["corrected_by_id"] == sam
    assert body["corrected_at"] is not None
    assert body["reasons"][-1] == (
        "corrected by an agent: category logistics → billing, urgent False → True"
    )
    auto, corrected = await _decisions(c, cid)
    assert corrected["corrects_id"] == auto["id"]
    assert corrected["changes"] == {
        "category": {"from": "logistics", "to": "billing"},
        "urgent": {"from": False, "to": True},
    }
    assert await _category(c, cid) == "billing"
    entries = [e for e in await timeline(c, out.customer_id) if e["kind"] == "triage_corrected"]
    assert [e["data"] for e in entries] == [{"changes": corrected["changes"], "by": sam}]

    # The agent's category stands through the customer's next message.
    await write(c, inbox, "cleo", "any news on the delivery?")
    triage = (await _get(c, token, cid))["triage"]
    assert (triage["category"], triage["category_by_agent"]) == ("billing", True)
    assert triage["reasons"][-1] == "category stays billing: set by an agent"
    assert triage["corrected_by_id"] is None
    assert await _category(c, cid) == "billing"


async def test_a_correction_names_a_known_category(container: Container) -> None:
    c = container
    inbox = await make_api_inbox(c)
    _, token = await make_agent(c, role="agent")
    out = await write(c, inbox, "dan", "hello")
    async with api_client(c) as client:
        r = await client.patch(
            f"/api/v1/conversations/{out.conversation_id}/triage",
            json={"category": "refunds"},
            headers=auth(token),
        )
    assert r.status_code == 400, r.text
    assert "category" in r.text
