"""The inbound path, end to end through the bus, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from tests.support.factories import (
    deliver_api,
    deliver_email,
    make_api_inbox,
    make_email,
    make_email_inbox,
    timeline,
)

from threadline.actions.conversations import change_status
from threadline.core.model import ConversationStatus
from threadline.queries.scope import EVERYTHING
from threadline.queries.search import search_messages
from threadline.storage.tables import (
    conversations,
    customers,
    inbound_receipts,
    merge_suggestions,
    messages,
)

pytestmark = pytest.mark.anyio


async def count(c, table, *where) -> int:  # type: ignore[no-untyped-def]
    return await c.db.read(
        lambda conn: conn.execute(
            sa.select(sa.func.count()).select_from(table).where(*where)
        ).scalar_one()
    )


async def test_email_then_api_message_continues_with_channel_switched(container) -> None:  # type: ignore[no-untyped-def]
    c = container
    email_inbox = await make_email_inbox(c)
    api_inbox = await make_api_inbox(c)
    raw, _ = make_email(body="My order #4417 is late.")
    first = await deliver_email(c, email_inbox, raw)
    assert first.status == "processed"

    second = await deliver_api(
        c,
        api_inbox,
        {
            "id": "app-1",
            "customer": {"email": "Ana@Example.com"},
            "text": "Any update on my order?",
        },
    )
    assert second.status == "processed"
    assert second.conversation_id == first.conversation_id
    assert second.customer_id == first.customer_id

    entries = await timeline(c, first.customer_id)
    assert [(e["kind"], (e["message"] or {}).get("channel")) for e in entries] == [
        ("message", "email"),
        ("channel_switched", None),
        ("message", "api"),
    ]
    assert entries[1]["data"] == {"from": "email", "to": "api"}


async def test_retry_with_same_provider_id_is_stored_once(container) -> None:  # type: ignore[no-untyped-def]
    c = container
    inbox = await make_api_inbox(c)
    body = {"id": "dup-1", "customer": {"external_id": "u1"}, "text": "hello"}
    first = await deliver_api(c, inbox, body)
    again = await deliver_api(c, inbox, body)
    assert first.status == "processed"
    assert again.status == "duplicate"
    assert again.receipt_id == first.receipt_id
    assert await count(c, messages) == 1
    assert await count(c, inbound_receipts) == 1


async def test_unparseable_payload_is_quarantined_and_replays_after_fix(container) -> None:  # type: ignore[no-untyped-def]
    c = container
    inbox = await make_api_inbox(c)
    from threadline.actions.receipts import Payload

    broken = b'{"id": "m-9", "customer": {"phone": "not a phone"}, "text": "hi"}'
    out = await c.bus.ingest(Payload(inbox, "api", broken, {}))
    assert out.status == "quarantined"
    assert "phone" in (out.detail or "")
    # the provider's retry of the same bytes is acknowledged, not stored twice
    again = await c.bus.ingest(Payload(inbox, "api", broken, {}))
    assert again.status == "duplicate"
    assert await count(c, messages) == 0

    fixed = b'{"id": "m-9", "customer": {"phone": "+1 415 555 0101"}, "text": "hi"}'
    replayed = await c.bus.replay(out.receipt_id, fixed)
    assert replayed.status == "processed"
    assert replayed.message_id is not None
    row = await c.db.read(
        lambda conn: conn.execute(
            sa.select(inbound_receipts).where(inbound_receipts.c.id == out.receipt_id)
        ).one()
    )
    assert row.status == "processed"
    assert row.replays == 1
    assert row.provider_message_id == "m-9"
    assert "original_payload_b64" in row.context


async def test_claimed_identity_of_someone_else_only_suggests_a_merge(container) -> None:  # type: ignore[no-untyped-def]
    c = container
    inbox = await make_api_inbox(c)
    ana = await deliver_api(
        c, inbox, {"id": "a", "customer": {"email": "ana@example.com"}, "text": "one"}
    )
    stranger = await deliver_api(
        c,
        inbox,
        {
            "id": "b",
            "customer": {"external_id": "visitor-7", "email": "ana@example.com", "verified": False},
            "text": "i am ana, honest",
        },
    )
    assert stranger.customer_id != ana.customer_id
    assert stranger.conversation_id != ana.conversation_id
    assert await count(c, merge_suggestions, merge_suggestions.c.status == "open") == 1


async def test_verified_identity_links_two_customers(container) -> None:  # type: ignore[no-untyped-def]
    c = container
    inbox = await make_api_inbox(c)
    by_email = await deliver_api(
        c, inbox, {"id": "a", "customer": {"email": "ana@example.com"}, "text": "one"}
    )
    by_phone = await deliver_api(
        c, inbox, {"id": "b", "customer": {"phone": "+14155550101"}, "text": "two"}
    )
    assert by_email.customer_id != by_phone.customer_id
    both = await deliver_api(
        c,
        inbox,
        {
            "id": "c",
            "customer": {"email": "ana@example.com", "phone": "+1 (415) 555-0101"},
            "text": "three",
        },
    )
    assert both.customer_id == by_email.customer_id
    merged = await c.db.read(
        lambda conn: conn.execute(
            sa.select(customers.c.merged_into_id).where(customers.c.id == by_phone.customer_id)
        ).scalar()
    )
    assert merged == by_email.customer_id


async def test_resolved_conversation_reopens_within_window_only(container, clock) -> None:  # type: ignore[no-untyped-def]
    c = container
    inbox = await make_api_inbox(c)
    first = await deliver_api(
        c, inbox, {"id": "1", "customer": {"external_id": "u"}, "text": "help"}
    )
    await c.bus.execute(
        lambda tx: change_status(
            tx, first.conversation_id, ConversationStatus.RESOLVED, actor_id=None
        )
    )
    clock.advance(days=3)
    again = await deliver_api(
        c, inbox, {"id": "2", "customer": {"external_id": "u"}, "text": "still broken"}
    )
    assert again.conversation_id == first.conversation_id
    status = await c.db.read(
        lambda conn: conn.execute(
            sa.select(conversations.c.status).where(conversations.c.id == first.conversation_id)
        ).scalar()
    )
    assert status == "open"
    await c.bus.execute(
        lambda tx: change_status(
            tx, first.conversation_id, ConversationStatus.RESOLVED, actor_id=None
        )
    )
    clock.advance(timedelta(days=8))
    later = await deliver_api(
        c, inbox, {"id": "3", "customer": {"external_id": "u"}, "text": "new thing"}
    )
    assert later.conversation_id != first.conversation_id


async def test_search_finds_messages_on_both_databases(container) -> None:  # type: ignore[no-untyped-def]
    c = container
    inbox = await make_api_inbox(c)
    await deliver_api(
        c,
        inbox,
        {"id": "1", "customer": {"external_id": "u"}, "text": "The blender arrived cracked"},
    )
    await deliver_api(
        c, inbox, {"id": "2", "customer": {"external_id": "v"}, "text": "Where is my toaster?"}
    )
    hits = await c.db.read(lambda conn: search_messages(conn, "blender", scope=EVERYTHING))
    assert [h["snippet"] for h in hits] == ["The blender arrived cracked"]
    assert await c.db.read(lambda conn: search_messages(conn, "dishwasher", scope=EVERYTHING)) == []


async def test_concurrent_first_messages_from_one_new_customer(container) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL several writer threads race to create the same customer; the
    loser's unique-key violation reruns its action, which then finds the winner's row."""
    import asyncio

    c = container
    inbox = await make_api_inbox(c)
    outcomes = await asyncio.gather(
        *(
            deliver_api(
                c,
                inbox,
                {"id": f"race-{i}", "customer": {"external_id": "new-1"}, "text": f"hi {i}"},
            )
            for i in range(24)
        )
    )
    assert {o.status for o in outcomes} == {"processed"}
    assert len({o.customer_id for o in outcomes}) == 1
    assert len({o.conversation_id for o in outcomes}) == 1
    assert await count(c, customers) == 1
    assert await count(c, messages) == 24


async def test_claimed_email_on_file_is_a_separate_customer_with_a_suggestion(container) -> None:  # type: ignore[no-untyped-def]
    """The README's own example: the business posts an address its user only typed
    ("verified": false), and that address is a real customer's."""
    c = container
    email_inbox = await make_email_inbox(c)
    api_inbox = await make_api_inbox(c)
    raw, _ = make_email(body="My order #4417 is late.")
    ana = await deliver_email(c, email_inbox, raw)
    claim = {
        "customer": {"email": "ana@example.com", "name": "Ana", "verified": False},
        "text": "please send my refund to this new card",
    }
    first = await deliver_api(c, api_inbox, {"id": "claim-1", **claim})
    assert first.status == "processed"
    assert first.customer_id != ana.customer_id
    assert first.conversation_id != ana.conversation_id
    assert [e["kind"] for e in await timeline(c, ana.customer_id)] == ["message"]
    suggestions = await c.db.read(
        lambda conn: conn.execute(
            sa.select(
                merge_suggestions.c.customer_id,
                merge_suggestions.c.other_customer_id,
                merge_suggestions.c.identity,
            ).where(merge_suggestions.c.status == "open")
        ).all()
    )
    assert [tuple(s) for s in suggestions] == [
        (first.customer_id, ana.customer_id, "email:ana@example.com")
    ]
    # The same claim again stays with the first claimant, with no second suggestion.
    again = await deliver_api(c, api_inbox, {"id": "claim-2", **claim})
    assert (again.customer_id, again.conversation_id) == (
        first.customer_id,
        first.conversation_id,
    )
    assert await count(c, merge_suggestions) == 1


async def test_claims_of_an_address_nobody_proved_stay_together(container) -> None:  # type: ignore[no-untyped-def]
    c = container
    inbox = await make_api_inbox(c)
    claim = {"customer": {"email": "typed@example.com", "verified": False}, "text": "hi"}
    first = await deliver_api(c, inbox, {"id": "t-1", **claim})
    second = await deliver_api(c, inbox, {"id": "t-2", **claim})
    assert second.customer_id == first.customer_id
    assert second.conversation_id == first.conversation_id
    assert await count(c, merge_suggestions) == 0
