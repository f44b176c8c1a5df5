"""A waiting customer is owed a first answer by the channel's target, counted in
the inbox's business hours; the inbox can show who is overdue or due soon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from tests.support.factories import deliver_email, make_agent, make_email, make_inbox
from tests.support.hours import HOURS, berlin

from threadline.actions.replies import send_reply
from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.queries.inbox import InboxFilters, list_inbox
from threadline.queries.scope import EVERYTHING
from threadline.storage.tables import conversations

pytestmark = pytest.mark.anyio


async def _due(c: Container, conversation_id: int) -> datetime | None:
    due: datetime | None = await c.db.read(
        lambda conn: conn.execute(
            sa.select(conversations.c.first_response_due_at).where(
                conversations.c.id == conversation_id
            )
        ).scalar()
    )
    return due


async def test_an_email_on_friday_afternoon_is_due_monday_and_an_answer_clears_it(
    container: Container, clock: FakeClock
) -> None:
    c = container
    inbox = await make_inbox(
        c, "email", "Support", "support@acme.test", {"webhook_secret": "s", "hours": HOURS}
    )
    clock.set(berlin("2026-12-04 16:00"))  # a Friday
    raw, _ = make_email(body="Where is my parcel?")
    first = await deliver_email(c, inbox, raw)
    assert await _due(c, first.conversation_id) == berlin("2026-12-07 12:00")

    # A second message while still waiting keeps the first due time.
    clock.set(berlin("2026-12-05 10:00"))
    raw, _ = make_email(body="Hello??", subject="Re: Order #4417 hasn't arrived")
    again = await deliver_email(c, inbox, raw)
    assert again.conversation_id == first.conversation_id
    assert await _due(c, first.conversation_id) == berlin("2026-12-07 12:00")

    # An agent answers: nobody waits, nothing is due.
    agent_id, _ = await make_agent(c, role="agent")
    clock.set(berlin("2026-12-07 09:30"))
    await c.bus.execute(
        lambda tx: send_reply(
            tx,
            c.bus.cfg,
            conversation_id=first.conversation_id,
            author_id=agent_id,
            text="On its way.",
        )
    )
    assert await _due(c, first.conversation_id) is None


async def test_the_inbox_shows_who_is_overdue_and_who_is_due_within_the_hour(
    container: Container, clock: FakeClock
) -> None:
    c = container
    inbox = await make_inbox(c, "email", "Support", "support@acme.test", {"webhook_secret": "s"})
    clock.set(datetime(2026, 11, 30, 8, 0, tzinfo=UTC))
    early, _ = make_email(sender="early@example.com", subject="Early", body="one")
    late, _ = make_email(sender="late@example.com", subject="Late", body="two")
    first = await deliver_email(c, inbox, early)
    clock.advance(hours=3, minutes=30)
    second = await deliver_email(c, inbox, late)
    clock.advance(hours=1)  # 12:30: the first was due at 12:00, the second at 15:30

    def subjects(before: datetime) -> set[int]:
        page = c.db.read_sync(
            lambda conn: list_inbox(
                conn,
                scope=EVERYTHING,
                viewer_id=0,
                filters=InboxFilters(sla_due_before=before),
                counts=False,
            )
        )
        return {r["id"] for r in page.rows}

    now = clock.now()
    assert subjects(now) == {first.conversation_id}
    assert subjects(now + timedelta(hours=3, minutes=5)) == {
        first.conversation_id,
        second.conversation_id,
    }
