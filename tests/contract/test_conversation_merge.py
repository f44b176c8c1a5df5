"""Merging two conversations of one customer: the same matter, opened twice."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tests.support.desk import build_desk
from tests.support.factories import (
    api_client,
    make_agent,
    make_email_inbox,
    timeline,
)
from tests.support.inbox import change, email, reply, row

from threadline.actions.calls import log_call
from threadline.actions.conversation_merge import merge_conversations
from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.core.events import ConversationChanged
from threadline.storage.tables import calls

pytestmark = pytest.mark.anyio


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_merge_moves_everything_into_the_target_and_resolves_the_source(
    container: Container, clock: FakeClock
) -> None:
    c = container
    inbox = await make_email_inbox(c)
    sam, token = await make_agent(c)
    target = await email(c, inbox, "Order #4417 is late", "Where is my order?")
    await reply(c, target, sam, "Looking into it")
    clock.advance(minutes=10)
    source = await email(c, inbox, "Refund please", "Or refund me.")
    assert source != target
    await change(c, source, sam, add_tags=["refund"])
    await change(c, target, sam, add_tags=["late"])
    ana = await row(c, source, sam)
    assert ana is not None
    call = await c.bus.execute(
        lambda tx: log_call(
            tx,
            customer_id=ana["customer_id"],
            conversation_id=source,
            direction="outbound",
            duration_seconds=60,
            notes="Called her back",
            actor_id=sam,
        )
    )
    async with api_client(c) as client:
        h = auth(token)
        r = await client.post(
            f"/api/v1/conversations/{target}/merge", json={"source_id": source}, headers=h
        )
        assert r.status_code == 200, r.text
        merged = r.json()
        assert merged["tags"] == ["late", "refund"]
        assert merged["last_message"]["text"] == "Or refund me."
        # The reply answered the first message only: she has waited since the second.
        assert merged["waiting_since"] == r.json()["last_inbound_at"]
        texts = [
            m["text"]
            for m in (
                await client.get(f"/api/v1/conversations/{target}/messages", headers=h)
            ).json()
        ]
        assert texts == ["Where is my order?", "Looking into it", "Or refund me."]
        assert (
            await client.get(f"/api/v1/conversations/{source}/messages", headers=h)
        ).json() == []
        left = (await client.get(f"/api/v1/conversations/{source}", headers=h)).json()
    assert (left["status"], left["tags"], left["waiting_since"]) == ("resolved", [], None)
    moved_call = await c.db.read(
        lambda conn: conn.execute(
            sa.select(calls.c.conversation_id).where(calls.c.id == call)
        ).scalar()
    )
    assert moved_call == target
    entries = await timeline(c, merged["customer_id"])
    on_source = [e for e in entries if e["conversation_id"] == source]
    assert [e["kind"] for e in on_source] == ["conversation_merged"]
    assert on_source[0]["data"] == {
        "source_id": source,
        "target_id": target,
        "messages": 1,
        "from_status": "open",
        "by": sam,
    }
    on_target = [e["kind"] for e in entries if e["conversation_id"] == target]
    assert on_target.count("message") == 3
    assert on_target[-1] == "conversation_merged"


async def test_a_merge_pushes_both_rows(container: Container) -> None:
    c = container
    inbox = await make_email_inbox(c)
    sam, _ = await make_agent(c)
    target = await email(c, inbox, "Order late", "Where is it?")
    source = await email(c, inbox, "Also", "And my invoice?")
    moved, events = await c.db.write(
        lambda tx: merge_conversations(tx, source_id=source, target_id=target, actor_id=sam)
    )
    assert moved == 1
    pushed = {e.conversation_id for e in events if isinstance(e, ConversationChanged)}
    assert pushed == {source, target}


async def test_a_merge_of_two_customers_or_of_itself_is_refused(container: Container) -> None:
    c = container
    inbox = await make_email_inbox(c)
    _, token = await make_agent(c)
    ana = await email(c, inbox, "Order late", "Where is it?")
    bo = await email(c, inbox, "Order late", "Mine too", sender="bo@example.com")
    async with api_client(c) as client:
        h = auth(token)
        r = await client.post(
            f"/api/v1/conversations/{ana}/merge", json={"source_id": bo}, headers=h
        )
        assert r.status_code == 422
        assert "same customer" in r.json()["detail"]
        r = await client.post(
            f"/api/v1/conversations/{ana}/merge", json={"source_id": ana}, headers=h
        )
        assert r.status_code == 422
        assert "itself" in r.json()["detail"]
        r = await client.post(
            f"/api/v1/conversations/{ana}/merge", json={"source_id": 999}, headers=h
        )
        assert r.status_code == 404
        r = await client.get(f"/api/v1/conversations/{bo}/messages", headers=h)
    assert [m["text"] for m in r.json()] == ["Mine too"]


async def test_a_conversation_out_of_scope_is_not_found_on_either_side(
    container: Container,
) -> None:
    c = container
    desk = await build_desk(c)
    rosa = auth(desk.users["restricted"].token)
    billing, sales = desk.billing.conversation_id, desk.sales.conversation_id
    async with api_client(c) as client:
        for target, source in ((billing, sales), (sales, billing)):
            r = await client.post(
                f"/api/v1/conversations/{target}/merge", json={"source_id": source}, headers=rosa
            )
            assert r.status_code == 404, (target, source)
        sam = auth(desk.users["agent"].token)
        r = await client.get(f"/api/v1/conversations/{sales}", headers=sam)
    assert r.json()["status"] == "open"
