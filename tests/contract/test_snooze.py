"""Snoozing: until a chosen time, when a durable job wakes the conversation, unless
the customer writes first. The fake clock moves; the job runner runs what is due."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support.factories import api_client, make_agent, make_api_inbox, timeline
from tests.support.inbox import change, row, write

from threadline.actions.errors import ActionError
from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.core.model import ConversationStatus
from threadline.storage.tables import jobs

pytestmark = pytest.mark.anyio

SNOOZED = ConversationStatus.SNOOZED


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _open_conversation(c: Container) -> tuple[int, int, int]:
    inbox = await make_api_inbox(c)
    sam, _ = await make_agent(c)
    out = await write(c, inbox, "ana")
    assert out.conversation_id is not None
    return inbox, sam, out.conversation_id


async def _state(c: Container, cid: int, viewer: int) -> tuple[str, datetime | None]:
    found = await row(c, cid, viewer)
    assert found is not None
    return found["status"], found["snoozed_until"]


async def _status_entries(c: Container, cid: int) -> list[dict[str, Any]]:
    found = await row(c, cid, 1)
    assert found is not None
    return [
        e["data"]
        for e in await timeline(c, found["customer_id"])
        if e["kind"] == "status_changed" and e["conversation_id"] == cid
    ]


async def test_a_snoozed_conversation_wakes_at_its_time(
    container: Container, clock: FakeClock
) -> None:
    c = container
    _, sam, cid = await _open_conversation(c)
    until = clock.now() + timedelta(hours=2)
    changed, _ = await change(c, cid, sam, status=SNOOZED, snoozed_until=until)
    assert changed == ("status",)
    assert await _state(c, cid, sam) == ("snoozed", until)

    clock.advance(hours=1, minutes=59)
    assert await c.runner.run_due() == 0
    assert await _state(c, cid, sam) == ("snoozed", until)
    clock.advance(minutes=1)
    assert await c.runner.run_due() == 1
    assert await _state(c, cid, sam) == ("open", None)
    snoozed, woke = await _status_entries(c, cid)
    assert (snoozed["to"], snoozed["until"], snoozed["by"]) == ("snoozed", until.isoformat(), sam)
    assert woke == {"from": "snoozed", "to": "open", "by": "system", "reason": "woke"}


async def test_a_customer_message_before_the_time_reopens_it_and_the_job_does_nothing(
    container: Container, clock: FakeClock
) -> None:
    c = container
    inbox, sam, cid = await _open_conversation(c)
    await change(c, cid, sam, snoozed_until=clock.now() + timedelta(hours=2))  # status implied
    clock.advance(minutes=30)
    assert (await write(c, inbox, "ana", "any news?")).conversation_id == cid
    assert await _state(c, cid, sam) == ("open", None)
    clock.advance(hours=2)
    assert await c.runner.run_due() == 1  # the job ran, and found nothing to wake
    entries = await _status_entries(c, cid)
    assert [e.get("reason") for e in entries] == [None, "customer replied"]


async def test_a_snooze_moved_later_is_not_woken_at_the_first_time(
    container: Container, clock: FakeClock
) -> None:
    c = container
    _, sam, cid = await _open_conversation(c)
    first, later = clock.now() + timedelta(hours=1), clock.now() + timedelta(hours=3)
    await change(c, cid, sam, status=SNOOZED, snoozed_until=first)
    changed, _ = await change(c, cid, sam, status=SNOOZED, snoozed_until=later)
    assert changed == ("status",)  # a new time is a change
    clock.advance(hours=1)
    await c.runner.run_due()
    assert await _state(c, cid, sam) == ("snoozed", later)
    clock.advance(hours=2)
    await c.runner.run_due()
    assert await _state(c, cid, sam) == ("open", None)


async def test_leaving_snoozed_by_hand_forgets_the_time(
    container: Container, clock: FakeClock
) -> None:
    c = container
    _, sam, cid = await _open_conversation(c)
    until = clock.now() + timedelta(days=1)
    await change(c, cid, sam, status=SNOOZED, snoozed_until=until)
    await change(c, cid, sam, status=ConversationStatus.PENDING)
    assert await _state(c, cid, sam) == ("pending", None)
    clock.advance(days=1)
    await c.runner.run_due()
    assert await _state(c, cid, sam) == ("pending", None)  # not woken to open


async def test_snoozing_needs_a_future_time_within_a_year(
    container: Container, clock: FakeClock
) -> None:
    c = container
    _, sam, cid = await _open_conversation(c)
    with pytest.raises(ActionError, match="needs a time"):
        await change(c, cid, sam, status=SNOOZED)
    with pytest.raises(ActionError, match="goes with the status snoozed"):
        await change(c, cid, sam, status=ConversationStatus.PENDING, snoozed_until=clock.now())
    _, token = await make_agent(c, email="ada@acme.test")
    async with api_client(c) as client:
        url = f"/api/v1/conversations/{cid}"
        for when, why in [
            (clock.now() - timedelta(minutes=1), "future"),
            (clock.now() + timedelta(days=400), "at most 366 days"),
        ]:
            r = await client.patch(
                url,
                json={"status": "snoozed", "snoozed_until": when.isoformat()},
                headers=auth(token),
            )
            assert r.status_code == 422, r.text
            assert why in r.json()["detail"]
        naive = (clock.now() + timedelta(hours=1)).replace(tzinfo=None).isoformat()
        r = await client.patch(url, json={"snoozed_until": naive}, headers=auth(token))
        assert r.status_code == 422
        assert "time zone" in r.json()["detail"]
        until = clock.now() + timedelta(hours=1)
        r = await client.patch(url, json={"snoozed_until": until.isoformat()}, headers=auth(token))
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "snoozed"
    assert datetime.fromisoformat(r.json()["snoozed_until"]) == until
    # Only the accepted snooze left a job behind.
    waiting = await c.db.read(
        lambda conn: (
            conn.execute(sa.select(jobs.c.run_at).where(jobs.c.kind == "wake_snoozed"))
            .scalars()
            .all()
        )
    )
    assert waiting == [until]
