"""The off-hours reply set over the API, and acknowledged on SMS and WhatsApp: the
setting an admin stores is the one the ingest path reads, and the acknowledgement
goes back on the channel the customer wrote on, with the expected reply time."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from tests.channels.meta.support import fixture, make_meta_inbox, post_meta
from tests.channels.twilio_sms.support import ANA_PHONE, form, make_sms_inbox, post_form
from tests.support.factories import api_client, make_agent, make_team
from tests.support.hours import HOURS, berlin

from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.storage.tables import messages

pytestmark = pytest.mark.anyio

API = "/api/v1"
HELP = "https://help.acme.test/sms"
ON = {"enabled": True, "help_url": HELP, "text": None, "contact_page": True}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def run_jobs(c: Container) -> None:
    for _ in range(5):  # the acknowledgement's job, then the delivery it queues
        if not await c.runner.run_due():
            return


async def outbound(c: Container) -> list[Any]:
    q = sa.select(messages).where(messages.c.direction == "outbound").order_by(messages.c.id)
    return await c.db.read(lambda conn: conn.execute(q).all())


async def test_an_sms_off_hours_is_acknowledged_by_sms_once_the_api_turned_the_reply_on(
    container: Container, clock: FakeClock
) -> None:
    c = container
    _, token = await make_agent(c, "ada@acme.test", role="admin")
    inbox = await make_sms_inbox(c, hours=HOURS)
    clock.set(berlin("2026-12-05 10:00"))  # Saturday
    async with api_client(c) as client:
        before = await client.get(f"{API}/inboxes/{inbox}/off-hours-reply", headers=auth(token))
        put = await client.put(
            f"{API}/inboxes/{inbox}/off-hours-reply", json=ON, headers=auth(token)
        )
        assert put.status_code == 200, put.text
        assert (await post_form(client, "/webhooks/twilio/sms", form("inbound_sms"))).is_success
        await run_jobs(c)
        sid = "SM" + "7" * 32  # a second text the same morning
        second = form("inbound_sms", MessageSid=sid, SmsMessageSid=sid, SmsSid=sid, Body="Hello?")
        assert (await post_form(client, "/webhooks/twilio/sms", second)).is_success
        await run_jobs(c)
    assert before.json() == {**ON, "enabled": False, "help_url": None}
    assert put.json() == ON
    inbound = sa.select(sa.func.count()).where(messages.c.direction == "inbound")
    assert await c.db.read(lambda conn: conn.execute(inbound).scalar_one()) == 2
    [ack] = await outbound(c)  # one for both texts: once per conversation per closed period
    assert (ack.channel, ack.recipient, ack.author_type) == ("sms", ANA_PHONE, "system")
    assert "we'll answer soon after we open, Monday 9:00" in ack.text  # SMS: 15 minutes
    assert HELP in ack.text


async def test_a_whatsapp_message_off_hours_is_acknowledged_on_whatsapp(
    container: Container, clock: FakeClock
) -> None:
    c = container
    _, token = await make_agent(c, "ada@acme.test", role="admin")
    inbox = await make_meta_inbox(c, "whatsapp", hours=HOURS)
    clock.set(berlin("2026-12-04 18:30"))  # Friday evening
    async with api_client(c) as client:
        put = await client.put(
            f"{API}/inboxes/{inbox}/off-hours-reply", json=ON, headers=auth(token)
        )
        assert put.status_code == 200, put.text
        assert (await post_meta(client, fixture("whatsapp_text"))).status_code == 200
        await run_jobs(c)
    [ack] = await outbound(c)
    assert (ack.channel, ack.author_type) == ("whatsapp", "system")
    assert ack.meta["auto_reply"] == "off_hours"
    # Two business hours from Monday's opening.
    assert "we'll answer by Monday 11:00" in ack.text


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({**ON, "help_url": "javascript:alert(1)"}, "http:// or https://"),
        ({**ON, "text": "We answer {when}."}, "{when}"),
        ({**ON, "text": "x" * 1001}, "1000"),
        ({**ON, "colour": "red"}, "colour"),
    ],
)
async def test_a_bad_off_hours_reply_is_refused_with_the_reason_and_changes_nothing(
    container: Container, body: dict[str, Any], reason: str
) -> None:
    c = container
    _, token = await make_agent(c, "ada@acme.test", role="admin")
    inbox = await make_sms_inbox(c, hours=HOURS)
    async with api_client(c) as client:
        r = await client.put(
            f"{API}/inboxes/{inbox}/off-hours-reply", json=body, headers=auth(token)
        )
        after = await client.get(f"{API}/inboxes/{inbox}/off-hours-reply", headers=auth(token))
    assert r.status_code in (400, 422)
    assert reason in r.text
    assert after.json()["enabled"] is False


async def test_only_admins_set_it_and_an_inbox_out_of_scope_is_not_found(
    container: Container,
) -> None:
    c = container
    agent_id, agent = await make_agent(c, "sam@acme.test", role="agent")
    _, admin = await make_agent(c, "ada@acme.test", role="admin")
    theirs = await make_sms_inbox(c, hours=HOURS)
    ours = await make_meta_inbox(c, "whatsapp")
    await make_team(c, "Social", members=[agent_id], inboxes=[ours], restrict=[agent_id])
    async with api_client(c) as client:
        refused = await client.put(
            f"{API}/inboxes/{ours}/off-hours-reply", json=ON, headers=auth(agent)
        )
        seen = await client.get(f"{API}/inboxes/{ours}/off-hours-reply", headers=auth(agent))
        hidden = await client.get(f"{API}/inboxes/{theirs}/off-hours-reply", headers=auth(agent))
        missing = await client.put(
            f"{API}/inboxes/9999/off-hours-reply", json=ON, headers=auth(admin)
        )
    assert refused.status_code == 403
    assert seen.status_code == 200
    assert (hidden.status_code, missing.status_code) == (404, 404)
