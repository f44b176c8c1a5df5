"""Twilio Voice routing: who an incoming call rings, answered with TwiML compared
against Twilio's own VoiceResponse; voicemail when we are closed or nobody is on
duty; and a call to a number we do not serve."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.channels.twilio_voice.flow_support import STATE, auth, go_on_duty, rows, voicemail_twiml
from tests.channels.twilio_voice.support import (
    CALL_SID,
    OFFICE_HOURS,
    VOICE_URL,
    client_for,
    form,
    make_voice_inbox,
    post_twilio,
    twiml,
    verbs,
)
from tests.support.factories import (
    make_agent,
)
from twilio.twiml.voice_response import Dial, VoiceResponse

from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.storage.tables import calls

pytestmark = pytest.mark.anyio


async def test_in_hours_call_rings_the_agents_on_duty(container: Container) -> None:
    c = container  # the fake clock: Monday 09:00 UTC, 10:00 in Berlin
    await make_voice_inbox(c, hours=OFFICE_HOURS)
    _, sam = await make_agent(c, "sam@acme.test", role="agent")
    _, kim = await make_agent(c, "kim@acme.test", role="agent")
    _, lee = await make_agent(c, "lee@acme.test", role="agent")
    async with client_for(c) as client:
        await go_on_duty(client, sam, "+1 (415) 555-0110")
        await go_on_duty(client, kim, "+49 30 901820")
        await go_on_duty(client, lee, "+14155550112")
        r = await client.post("/api/v1/agents/me/duty", json={"on_duty": False}, headers=auth(lee))
        assert r.json() == {"user_id": 3, "on_duty": False, "phone": "+14155550112"}

        r = await post_twilio(client, VOICE_URL, form("incoming_call"))

    expected = VoiceResponse()
    dial = Dial(timeout=20, action=f"{VOICE_URL}/dial-done{STATE}", answer_on_bridge=True)
    dial.number("+14155550110")
    dial.number("+4930901820")
    expected.append(dial)
    assert r.text == str(expected)
    assert verbs(r) == ["Dial"]

    # The ringing call is on record, not yet on anyone's timeline.
    [call] = await rows(c, calls)
    assert (call.provider_call_id, call.status, call.direction) == (CALL_SID, "ringing", "inbound")
    assert call.timeline_entry_id is None


async def test_off_hours_call_goes_to_voicemail_saying_when_we_open(
    container: Container, clock: FakeClock
) -> None:
    c = container
    await make_voice_inbox(c, hours=OFFICE_HOURS)
    _, sam = await make_agent(c, "sam@acme.test", role="agent")
    clock.set(datetime(2026, 11, 7, 14, 0, tzinfo=UTC))  # Saturday afternoon
    async with client_for(c) as client:
        await go_on_duty(client, sam, "+14155550110")
        r = await post_twilio(client, VOICE_URL, form("incoming_call"))
    assert r.text == voicemail_twiml(
        "Thank you for calling Acme Support. We are closed right now and open again "
        "on Monday at 9:00. Please leave a message after the beep, and we will call you back "
        "by Monday 11:00."  # the voice policy's 2 business hours, from the opening
    )
    assert verbs(r) == ["Say", "Record", "Hangup"]


async def test_the_inbox_greeting_is_spoken_with_the_next_opening(
    container: Container, clock: FakeClock
) -> None:
    c = container
    await make_voice_inbox(
        c, hours=OFFICE_HOURS, greeting="Acme here. We're back {next_open}. Speak after the tone."
    )
    clock.set(datetime(2026, 11, 2, 17, 30, tzinfo=UTC))  # Monday 18:30 in Berlin
    async with client_for(c) as client:
        r = await post_twilio(client, VOICE_URL, form("incoming_call"))
    say = twiml(r).find("Say")
    assert say is not None
    assert say.text == "Acme here. We're back tomorrow at 9:00. Speak after the tone."


async def test_in_hours_with_nobody_on_duty_takes_a_voicemail(container: Container) -> None:
    c = container
    await make_voice_inbox(c)  # no hours: always open
    await make_agent(c, "sam@acme.test", role="agent")  # never went on duty
    async with client_for(c) as client:
        r = await post_twilio(client, VOICE_URL, form("incoming_call"))
    assert r.text == voicemail_twiml(
        "Thank you for calling Acme Support. Nobody can take your call right now. "
        "Please leave a message after the beep, and we will call you back within 2 hours."
    )


async def test_the_greeting_promises_the_inboxs_own_callback_target_in_its_hours(
    container: Container, clock: FakeClock
) -> None:
    c = container
    await make_voice_inbox(c, hours=OFFICE_HOURS, callback_target_minutes=30)
    clock.set(datetime(2026, 11, 2, 15, 50, tzinfo=UTC))  # Monday 16:50 in Berlin
    async with client_for(c) as client:
        r = await post_twilio(client, VOICE_URL, form("incoming_call"))
    say = twiml(r).find("Say")
    assert say is not None
    # Ten minutes are left today: the other twenty come when it opens tomorrow.
    assert say.text is not None
    assert say.text.endswith("call you back by tomorrow at 9:20.")


async def test_a_custom_greeting_names_the_callback_from_the_stored_voice_policy(
    container: Container, clock: FakeClock
) -> None:
    c = container
    await make_voice_inbox(c, greeting="Acme. We call back {callback}.")
    _, admin = await make_agent(c, "ada@acme.test", role="admin")
    policy = {"seconds": 45 * 60, "business": False, "warn_percent": 80}
    async with client_for(c) as client:
        put = await client.put(
            "/api/v1/sla-policies/voice/normal/callback", json=policy, headers=auth(admin)
        )
        assert put.status_code == 200, put.text
        r = await post_twilio(client, VOICE_URL, form("incoming_call"))
    say = twiml(r).find("Say")
    assert say is not None
    assert say.text == "Acme. We call back within 45 minutes."


async def test_a_call_to_an_unknown_number_is_404(container: Container) -> None:
    c = container
    await make_voice_inbox(c)
    params = form("incoming_call", To="+14155550177", Called="+14155550177")
    async with client_for(c) as client:
        assert (await post_twilio(client, VOICE_URL, params)).status_code == 404
