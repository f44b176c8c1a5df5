"""Thread hints that name a conversation by id, on SQLite and PostgreSQL.

A hint usually names one of the customer's own recent conversations; these cases
are the others, which only the read by id can find: an older conversation of the
customer's, someone else's, and one that does not exist.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support.factories import (
    deliver_api,
    deliver_email,
    make_api_inbox,
    make_email,
    make_email_inbox,
)

from threadline.actions.conversations import change_status
from threadline.clock import FakeClock
from threadline.core.model import ConversationStatus
from threadline.storage import inbound as store
from threadline.storage.tables import conversations

pytestmark = pytest.mark.anyio


async def _newer_conversations(c: Any, customer_id: int, inbox_id: int, n: int = 20) -> list[int]:
    """``n`` open conversations of the customer, each more recent than any before:
    enough to push the older ones out of the 20 recent ones continuity lists."""
    now = c.clock.now()
    rows = [
        {
            "customer_id": customer_id,
            "inbox_id": inbox_id,
            "status": "open",
            "last_activity_at": now + timedelta(minutes=i + 1),
            "created_at": now,
            "updated_at": now,
        }
        for i in range(n)
    ]

    def insert(tx: Any) -> list[int]:
        result = tx.conn.execute(sa.insert(conversations).returning(conversations.c.id), rows)
        return sorted(result.scalars())

    ids, _ = await c.db.write(insert)
    return ids


async def _resolve(c: Any, conversation_id: int) -> None:
    await c.bus.execute(
        lambda tx: change_status(tx, conversation_id, ConversationStatus.RESOLVED, actor_id=None)
    )


async def test_a_hint_continues_the_customers_conversation_beyond_the_recent_twenty(
    container: Any,
) -> None:
    c = container
    inbox = await make_api_inbox(c)
    ana = {"email": "ana@example.com"}
    first = await deliver_api(c, inbox, {"customer": ana, "text": "my order"})
    newer = await _newer_conversations(c, first.customer_id, inbox)

    hinted = await deliver_api(
        c,
        inbox,
        {"customer": ana, "text": "about that order", "conversation_id": first.conversation_id},
    )
    unhinted = await deliver_api(c, inbox, {"customer": ana, "text": "something else"})

    assert hinted.conversation_id == first.conversation_id
    assert unhinted.conversation_id == newer[-1]  # the latest, as without any hint


@pytest.mark.parametrize(("days", "reopened"), [(2, True), (8, False)])
async def test_a_hinted_older_resolved_conversation_reopens_only_within_the_window(
    container: Any, clock: FakeClock, days: int, reopened: bool
) -> None:
    c = container
    inbox = await make_api_inbox(c)
    ana = {"email": "ana@example.com"}
    first = await deliver_api(c, inbox, {"customer": ana, "text": "my order"})
    await _resolve(c, first.conversation_id)
    newer = await _newer_conversations(c, first.customer_id, inbox)
    clock.advance(timedelta(days=days))

    again = await deliver_api(
        c,
        inbox,
        {"customer": ana, "text": "it broke again", "conversation_id": first.conversation_id},
    )

    status = await c.db.read(
        lambda conn: conn.execute(
            sa.select(conversations.c.status).where(conversations.c.id == first.conversation_id)
        ).scalar_one()
    )
    if reopened:
        assert (again.conversation_id, status) == (first.conversation_id, "open")
    else:
        assert (again.conversation_id, status) == (newer[-1], "resolved")


async def test_a_hint_naming_no_conversation_continues_the_latest(container: Any) -> None:
    c = container
    inbox = await make_api_inbox(c)
    ana = {"email": "ana@example.com"}
    first = await deliver_api(c, inbox, {"customer": ana, "text": "my order"})

    again = await deliver_api(
        c,
        inbox,
        {"customer": ana, "text": "hello?", "conversation_id": first.conversation_id + 1000},
    )

    assert again.status == "processed"
    assert again.conversation_id == first.conversation_id


async def test_a_ticket_number_too_long_for_an_id_is_no_hint_and_the_mail_is_stored(
    container: Any,
) -> None:
    c = container
    inbox = await make_email_inbox(c)
    first = await deliver_email(c, inbox, make_email(subject="Order late")[0])
    raw, _ = make_email(subject="Re: [#99999999999999999999] Order late", body="Any news?")

    again = await deliver_email(c, inbox, raw)

    assert again.status == "processed"  # not quarantined by an overflowing id
    assert again.conversation_id == first.conversation_id  # continued by its subject


async def test_of_several_hints_the_one_naming_the_senders_own_conversation_wins(
    container: Any,
) -> None:
    c = container
    inbox = await make_email_inbox(c)
    ana_raw, _ = make_email(subject="Order #4417 hasn't arrived")
    ana = await deliver_email(c, inbox, ana_raw)
    bob_raw, bob_mid = make_email(sender="bob@example.org", name="Bob", subject="Invoice")
    bob = await deliver_email(c, inbox, bob_raw)
    await _newer_conversations(c, ana.customer_id, inbox)

    # In-Reply-To names Bob's mail (not hers: passed over), the ticket her old conversation.
    raw, _ = make_email(
        subject=f"[#{ana.conversation_id}] still waiting", in_reply_to=f"<{bob_mid}>"
    )
    again = await deliver_email(c, inbox, raw)

    assert again.customer_id == ana.customer_id
    assert again.conversation_id == ana.conversation_id != bob.conversation_id


async def test_conversations_by_id_reads_rows_as_the_customers_list_does(
    container: Any,
) -> None:
    c = container
    inbox = await make_api_inbox(c)
    ana = await deliver_api(c, inbox, {"customer": {"email": "ana@example.com"}, "text": "a"})
    bob = await deliver_api(c, inbox, {"customer": {"email": "bob@example.org"}, "text": "b"})
    await _resolve(c, bob.conversation_id)  # a resolved_at to read back
    ids = [
        ana.conversation_id,
        bob.conversation_id + 1000,
        bob.conversation_id,
        ana.conversation_id,
    ]

    def read(tx: Any) -> tuple[list[store.ConversationRow], list[store.ConversationRow]]:
        listed = [
            *store.customer_conversations(tx, ana.customer_id),
            *store.customer_conversations(tx, bob.customer_id),
        ]
        return store.conversations_by_id(tx, ids), listed

    (by_id, listed), _ = await c.db.write(read)

    assert by_id == listed  # each named row once, the unknown id left out
    assert by_id[1].resolved_at == c.clock.now()
    with pytest.raises(ValueError, match="at most 4"):
        await c.db.write(lambda tx: store.conversations_by_id(tx, range(1, store.MAX_HINTED + 2)))
