"""The off-hours acknowledgement, end to end: a customer writes while the inbox is
closed, one acknowledgement goes back on the message's channel with the expected
reply time and the self-help link, once per conversation per closed period."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from tests.support.factories import (
    api_client,
    deliver_email,
    make_agent,
    make_email,
    make_email_inbox,
    timeline,
)
from tests.support.hours import HOURS, berlin
from tests.support.servers import Relay
from tests.support.ui import make_user, sign_in

from threadline.actions.off_hours import OFF_HOURS_JOB, send_off_hours_reply
from threadline.actions.replies import send_reply
from threadline.bootstrap import Container
from threadline.channels.email.adapter import SmtpRelay, SmtpSender
from threadline.clock import FakeClock
from threadline.storage.tables import auto_replies, jobs, messages

pytestmark = pytest.mark.anyio

HELP = "https://help.acme.test/orders"
REPLY = {"enabled": True, "help_url": HELP}


@pytest.fixture
def senders(relay: tuple[Relay, int]) -> dict[str, Any]:
    return {"email": SmtpSender(SmtpRelay(host="127.0.0.1", port=relay[1], starttls=False))}


async def desk(c: Container, **reply: Any) -> int:
    return await make_email_inbox(c, hours=HOURS, off_hours_reply={**REPLY, **reply})


async def run_jobs(c: Container) -> None:
    """The acknowledgement's job, then the delivery it queues (bounded: a sweep that
    comes due again at once would otherwise keep the loop going)."""
    for _ in range(5):
        if not await c.runner.run_due():
            return


async def acks(c: Container) -> list[Any]:
    return await c.db.read(
        lambda conn: conn.execute(
            sa.select(messages).where(messages.c.direction == "outbound").order_by(messages.c.id)
        ).all()
    )


async def off_hours_jobs(c: Container) -> int:
    q = sa.select(sa.func.count()).select_from(jobs).where(jobs.c.kind == OFF_HOURS_JOB)
    return int(await c.db.read(lambda conn: conn.execute(q).scalar_one()))


async def test_an_off_hours_email_is_acknowledged_once_with_the_expected_time_and_the_link(
    container: Container, clock: FakeClock, relay: tuple[Relay, int]
) -> None:
    c, (mail, _) = container, relay
    inbox_id = await desk(c)
    clock.set(berlin("2026-12-05 10:00"))  # Saturday
    first = await deliver_email(c, inbox_id, make_email(body="Where is my order?")[0])
    await run_jobs(c)
    [ack] = await acks(c)
    assert (ack.channel, ack.author_type, ack.author_id) == ("email", "system", None)
    assert ack.recipient == "ana@example.com"
    assert ack.meta["auto_reply"] == "off_hours"
    assert "we have received it" in ack.text
    assert "we'll answer by Monday 13:00" in ack.text
    assert "Mon–Fri 9:00–17:00 CET" in ack.text
    assert HELP in ack.text
    # It went out, marked as an automatic reply so other robots do not answer it.
    [(_, to, _)] = mail.received
    assert to == ["ana@example.com"]
    sent = mail.parsed()
    assert sent["Auto-Submitted"] == "auto-replied"
    assert HELP in sent.get_body(("plain",)).get_content()
    # On the timeline as a system message; the customer still waits for a person.
    entries = [e for e in await timeline(c, first.customer_id) if e["kind"] == "message"]
    assert [e["message"]["direction"] for e in entries] == ["inbound", "outbound"]
    assert entries[1]["message"]["author_type"] == "system"

    # A second email in the same closed period (Sunday): nothing more.
    clock.set(berlin("2026-12-06 20:00"))
    again = await deliver_email(
        c, inbox_id, make_email(body="Hello? Anyone?", subject="Order #4417 hasn't arrived")[0]
    )
    assert again.conversation_id == first.conversation_id
    await run_jobs(c)
    assert len(await acks(c)) == 1

    # Monday evening is the next closed period: one again.
    clock.set(berlin("2026-12-07 18:30"))
    await deliver_email(
        c, inbox_id, make_email(body="Still nothing.", subject="Order #4417 hasn't arrived")[0]
    )
    await run_jobs(c)
    later = await acks(c)
    assert len(later) == 2
    assert "we'll answer by tomorrow at 13:00" in later[1].text


async def test_open_hours_queue_no_acknowledgement(container: Container, clock: FakeClock) -> None:
    c = container
    inbox_id = await desk(c)
    clock.set(berlin("2026-12-01 10:00"))  # Tuesday morning
    await deliver_email(c, inbox_id, make_email()[0])
    assert await off_hours_jobs(c) == 0
    await run_jobs(c)
    assert await acks(c) == []


async def test_a_turned_off_reply_sends_nothing(container: Container, clock: FakeClock) -> None:
    c = container
    inbox_id = await desk(c, enabled=False)
    clock.set(berlin("2026-12-05 10:00"))
    await deliver_email(c, inbox_id, make_email()[0])
    assert await off_hours_jobs(c) == 0


@pytest.mark.parametrize(
    ("sender", "headers"),
    [
        ("ana@example.com", {"Auto-Submitted": "auto-replied"}),
        ("ana@example.com", {"Precedence": "bulk"}),
        ("news@example.com", {"List-Id": "<news.example.com>"}),
        ("mailer-daemon@example.com", {}),
        ("no-reply@shop.example", {}),
    ],
)
async def test_automatic_mail_gets_no_acknowledgement(
    container: Container, clock: FakeClock, sender: str, headers: dict[str, str]
) -> None:
    c = container
    inbox_id = await desk(c)
    clock.set(berlin("2026-12-05 10:00"))
    await deliver_email(c, inbox_id, make_email(sender=sender, headers=headers)[0])
    await run_jobs(c)
    assert await acks(c) == []


async def test_mail_from_a_robot_address_keeps_the_reason(
    container: Container, clock: FakeClock
) -> None:
    c = container
    inbox_id = await desk(c)
    clock.set(berlin("2026-12-05 10:00"))
    await deliver_email(c, inbox_id, make_email(sender="mailer-daemon@example.com")[0])
    await run_jobs(c)
    [row] = await c.db.read(lambda conn: conn.execute(sa.select(auto_replies)).all())
    assert row.message_id is None
    assert row.reason == "no automatic reply to mailer-daemon@ (RFC 3834)"


async def test_the_job_run_twice_sends_once(container: Container, clock: FakeClock) -> None:
    c = container
    inbox_id = await desk(c)
    clock.set(berlin("2026-12-05 10:00"))
    await deliver_email(c, inbox_id, make_email()[0])
    payload = await c.db.read(
        lambda conn: conn.execute(
            sa.select(jobs.c.payload).where(jobs.c.kind == OFF_HOURS_JOB)
        ).scalar_one()
    )
    cfg = c.bus.cfg
    first = await c.bus.execute(lambda tx: send_off_hours_reply(tx, cfg, dict(payload)))
    second = await c.bus.execute(lambda tx: send_off_hours_reply(tx, cfg, dict(payload)))
    assert (first, second) == ("sent", "already acknowledged this period")
    assert len(await acks(c)) == 1


async def test_a_sender_opening_many_conversations_is_acknowledged_a_few_times(
    container: Container, clock: FakeClock
) -> None:
    c = container
    inbox_id = await desk(c)
    clock.set(berlin("2026-12-05 10:00"))
    for n in range(5):
        await deliver_email(c, inbox_id, make_email(subject=f"Deal number {n}")[0])
        await run_jobs(c)
    assert len(await acks(c)) == 3


async def test_an_answer_before_the_job_runs_leaves_nothing_to_acknowledge(
    container: Container, clock: FakeClock
) -> None:
    c = container
    inbox_id = await desk(c)
    agent_id, _ = await make_agent(c)
    clock.set(berlin("2026-12-05 10:00"))
    got = await deliver_email(c, inbox_id, make_email()[0])
    await c.bus.execute(
        lambda tx: send_reply(
            tx, c.bus.cfg, conversation_id=got.conversation_id, author_id=agent_id, text="On it."
        )
    )
    await run_jobs(c)
    assert [m.author_type for m in await acks(c)] == ["agent"]


async def test_a_custom_text_carries_the_placeholders(
    container: Container, clock: FakeClock
) -> None:
    c = container
    text = "Got it! Expect us {expected}. Meanwhile: {help_url}"
    inbox_id = await desk(c, text=text)
    clock.set(berlin("2026-12-05 10:00"))
    await deliver_email(c, inbox_id, make_email()[0])
    await run_jobs(c)
    [ack] = await acks(c)
    assert ack.text == f"Got it! Expect us by Monday 13:00. Meanwhile: {HELP}"


async def test_agents_see_the_acknowledgement_as_an_automatic_reply(
    container: Container, clock: FakeClock
) -> None:
    c = container
    inbox_id = await desk(c)
    await make_user(c, "ada@acme.test", role="admin")
    clock.set(berlin("2026-12-05 10:00"))
    got = await deliver_email(c, inbox_id, make_email()[0])
    await run_jobs(c)
    async with api_client(c) as web:
        await sign_in(web, "ada@acme.test")
        page = await web.get(f"/conversations/{got.conversation_id}")
    assert page.status_code == 200
    assert "Automatic reply, off hours" in page.text
