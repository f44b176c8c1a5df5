"""Twilio Voice end to end: calls signed as Twilio signs them, answered with
TwiML compared against Twilio's own VoiceResponse, and what agents then see:
the call on the timeline, the conversation it joined, the callback owed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import sqlalchemy as sa
from tests.channels.twilio_voice.support import (
    ANA_PHONE,
    BASE,
    CALL_SID,
    OFFICE_HOURS,
    RECORDING_SID,
    STATUS_URL,
    VOICE_URL,
    attr,
    client_for,
    form,
    make_voice_inbox,
    post_twilio,
    sign,
    twiml,
    verbs,
)
from tests.support.factories import (
    deliver_email,
    make_agent,
    make_email,
    make_email_inbox,
    timeline,
)
from twilio.twiml.voice_response import Dial, Hangup, VoiceResponse

from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.storage.tables import calls, inbound_receipts, tasks

pytestmark = pytest.mark.anyio

# The callback URLs carry the call's parties (the recording callback posts neither).
STATE = "?From=%2B14155550101&To=%2B14155550100&Direction=inbound"
TRANSCRIPT = "Hi, this is Ana. My order 4417 still hasn't arrived, please call me back."


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def go_on_duty(client: httpx.AsyncClient, token: str, phone: str) -> None:
    r = await client.post(
        "/api/v1/agents/me/duty", json={"on_duty": True, "phone": phone}, headers=auth(token)
    )
    assert r.status_code == 200, r.text


def voicemail_twiml(greeting: str) -> str:
    expected = VoiceResponse()
    expected.say(greeting)
    expected.record(
        action=f"{VOICE_URL}/voicemail{STATE}",
        max_length=120,
        play_beep=True,
        transcribe=True,
        transcribe_callback=f"{VOICE_URL}/transcription{STATE}",
        recording_status_callback=f"{VOICE_URL}/recording{STATE}",
    )
    expected.hangup()
    return str(expected)


async def rows(c: Container, table: sa.Table) -> list[Any]:
    return await c.db.read(lambda conn: conn.execute(sa.select(table).order_by(table.c.id)).all())


async def call_entry(c: Container, customer_id: int) -> dict[str, Any]:
    entries = [e for e in await timeline(c, customer_id) if e["kind"] == "call"]
    assert len(entries) == 1, entries
    data: dict[str, Any] = entries[0]["data"]
    return data


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
        "on Monday at 9:00. Please leave a message after the beep, and we will call you back."
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
        "Please leave a message after the beep, and we will call you back as soon as we can."
    )


async def test_unanswered_call_leaves_a_voicemail_and_a_callback_task(
    container: Container, clock: FakeClock
) -> None:
    c = container
    await make_voice_inbox(c, hours=OFFICE_HOURS, callback_target_minutes=30)
    _, sam = await make_agent(c, "sam@acme.test", role="agent")
    async with client_for(c) as client:
        await go_on_duty(client, sam, "+14155550110")
        ringing = await post_twilio(client, VOICE_URL, form("incoming_call"))

        # Sam's phone rings for 20 seconds; Twilio asks the <Dial action> what next.
        clock.advance(seconds=21)
        dial_done = attr(ringing, "Dial", "action")
        r = await post_twilio(client, dial_done, form("dial_done_no_answer"))
        assert verbs(r) == ["Say", "Record", "Hangup"]
        record = twiml(r).find("Record")
        assert record is not None

        # Ana leaves a message and hangs up; each callback goes where the TwiML said.
        clock.advance(seconds=20)
        left_at = clock.now()
        r = await post_twilio(client, record.get("action", ""), form("voicemail"))
        assert verbs(r) == ["Hangup"]
        r = await post_twilio(
            client, record.get("recordingStatusCallback", ""), form("recording_completed")
        )
        assert r.text == str(VoiceResponse())
        r = await post_twilio(client, STATUS_URL, form("status_completed"))
        assert r.status_code == 200
        clock.advance(minutes=1)
        r = await post_twilio(client, record.get("transcribeCallback", ""), form("transcription"))
        assert r.status_code == 200

        listed = (await client.get("/api/v1/tasks?status=open", headers=auth(sam))).json()

    [task] = await rows(c, tasks)
    [call] = await rows(c, calls)
    assert (task.kind, task.status, task.call_id) == ("callback", "open", call.id)
    assert task.due_at == left_at + timedelta(minutes=30)
    assert task.conversation_id == call.conversation_id is not None
    assert [(t["id"], t["phone"], t["customer_name"]) for t in listed] == [
        (task.id, ANA_PHONE, "ANA SOUZA")
    ]
    assert datetime.fromisoformat(listed[0]["due_at"]) == task.due_at

    entries = await timeline(c, call.customer_id)
    assert [e["kind"] for e in entries] == ["task_opened", "call"]
    assert entries[0]["data"]["due_at"] == task.due_at.isoformat()
    assert entries[1]["conversation_id"] == task.conversation_id
    data = entries[1]["data"]
    assert data["voicemail"] is True
    assert data["answered"] is False
    assert data["status"] == "completed"
    assert data["duration_seconds"] == 48
    assert data["recording_url"].endswith(f"/Recordings/{RECORDING_SID}")
    assert data["transcription"] == TRANSCRIPT
    assert call.recording_seconds == 14


async def test_missed_call_continues_the_customers_open_email_conversation(
    container: Container,
) -> None:
    c = container
    email_inbox = await make_email_inbox(c)
    await make_voice_inbox(c)
    _, sam = await make_agent(c)
    first = await deliver_email(c, email_inbox, make_email(body="Where is order #4417?")[0])
    async with client_for(c) as client:
        r = await client.post(
            f"/api/v1/customers/{first.customer_id}/identities",
            json={"kind": "phone", "value": ANA_PHONE, "verified": True},
            headers=auth(sam),
        )
        assert r.status_code == 201, r.text
        r = await post_twilio(client, VOICE_URL, form("incoming_call"))
        assert verbs(r) == ["Say", "Record", "Hangup"]
        # Ana hangs up at the greeting: no recording, only the call's final status.
        await post_twilio(client, STATUS_URL, form("status_completed", CallDuration="9"))

    entries = await timeline(c, first.customer_id)
    assert [e["kind"] for e in entries] == [
        "message",
        "identity_added",
        "channel_switched",
        "task_opened",
        "call",
    ]
    assert entries[2]["data"] == {"from": "email", "to": "voice"}
    assert {e["conversation_id"] for e in entries[2:]} == {first.conversation_id}
    assert entries[-1]["data"]["voicemail"] is False
    assert entries[-1]["data"]["duration_seconds"] == 9
    [task] = await rows(c, tasks)
    assert task.conversation_id == first.conversation_id


async def test_answered_call_is_on_the_timeline_and_owes_nothing(container: Container) -> None:
    c = container
    await make_voice_inbox(c)
    _, sam = await make_agent(c, role="agent")
    async with client_for(c) as client:
        await go_on_duty(client, sam, "+14155550110")
        ringing = await post_twilio(client, VOICE_URL, form("incoming_call"))
        r = await post_twilio(client, attr(ringing, "Dial", "action"), form("dial_done_completed"))
        assert r.text == str(VoiceResponse().append(Hangup()))
        await post_twilio(client, STATUS_URL, form("status_completed", CallDuration="112"))
        listed = (await client.get("/api/v1/tasks", headers=auth(sam))).json()

    assert listed == []
    assert await rows(c, tasks) == []
    [call] = await rows(c, calls)
    assert call.conversation_id is None
    entries = await timeline(c, call.customer_id)
    assert [e["kind"] for e in entries] == ["call"]
    data = entries[0]["data"]
    assert (data["answered"], data["status"], data["voicemail"]) == (True, "completed", False)
    assert data["duration_seconds"] == 112


async def test_retried_callbacks_are_stored_once(container: Container) -> None:
    c = container
    await make_voice_inbox(c)
    async with client_for(c) as client:
        for _ in range(2):
            r = await post_twilio(client, VOICE_URL, form("incoming_call"))
            assert verbs(r) == ["Say", "Record", "Hangup"]  # a retry is answered the same
        record = twiml(r).find("Record")
        assert record is not None
        for _ in range(2):
            await post_twilio(client, record.get("action", ""), form("voicemail"))
            await post_twilio(client, record.get("transcribeCallback", ""), form("transcription"))
            await post_twilio(client, STATUS_URL, form("status_completed"))

    assert len(await rows(c, calls)) == 1
    assert len(await rows(c, tasks)) == 1
    receipts = await rows(c, inbound_receipts)
    assert sorted(r.provider_message_id for r in receipts) == sorted(
        [
            f"{CALL_SID}:ringing",
            RECORDING_SID,
            "TR0a1b2c3d4e5f60718293a4b5c6d7e8f9",
            f"{CALL_SID}:completed",
        ]
    )
    [call] = await rows(c, calls)
    assert [e["kind"] for e in await timeline(c, call.customer_id)] == ["task_opened", "call"]


@pytest.mark.parametrize(
    ("url", "fixture"),
    [
        (VOICE_URL, "incoming_call"),
        (f"{VOICE_URL}/dial-done{STATE}", "dial_done_no_answer"),
        (f"{VOICE_URL}/voicemail{STATE}", "voicemail"),
        (f"{VOICE_URL}/recording{STATE}", "recording_completed"),
        (f"{VOICE_URL}/transcription{STATE}", "transcription"),
        (STATUS_URL, "status_completed"),
    ],
)
async def test_bad_signatures_are_refused(container: Container, url: str, fixture: str) -> None:
    c = container
    await make_voice_inbox(c)
    params = form(fixture)
    async with client_for(c) as client:
        forged = sign(url, params, token="someone-elses-token")
        assert (await post_twilio(client, url, params, signature=forged)).status_code == 403
        assert (await post_twilio(client, url, params, signature="")).status_code == 403
        # Signed for other parameters than the ones posted.
        tampered = {**params, "CallSid": "CA00000000000000000000000000000000"}
        r = await post_twilio(client, url, tampered, signature=sign(url, params))
        assert r.status_code == 403
        assert (await post_twilio(client, url, params)).status_code == 200
    assert len(await rows(c, inbound_receipts)) == 1


async def test_the_callback_state_in_the_url_cannot_be_forged(container: Container) -> None:
    c = container
    await make_voice_inbox(c)
    params = form("recording_completed")
    signed_for = f"{VOICE_URL}/recording{STATE}"
    forged = f"{VOICE_URL}/recording?From=%2B14155550199&To=%2B14155550100&Direction=inbound"
    async with client_for(c) as client:
        r = await client.post(
            forged.removeprefix(BASE),
            content=urlencode(params).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": sign(signed_for, params),
            },
        )
    assert r.status_code == 403


async def test_a_call_to_an_unknown_number_is_404(container: Container) -> None:
    c = container
    await make_voice_inbox(c)
    params = form("incoming_call", To="+14155550177", Called="+14155550177")
    async with client_for(c) as client:
        assert (await post_twilio(client, VOICE_URL, params)).status_code == 404


async def test_an_unusable_callback_is_quarantined_and_acknowledged(container: Container) -> None:
    c = container
    await make_voice_inbox(c)
    async with client_for(c) as client:
        url = f"{VOICE_URL}/voicemail{STATE}"
        r = await post_twilio(client, url, form("voicemail", RecordingUrl=None))
        assert r.status_code == 200
        # A withheld number cannot be a customer, but the caller still gets an answer.
        r = await post_twilio(client, VOICE_URL, form("incoming_call", From="anonymous"))
        assert verbs(r) == ["Say", "Record", "Hangup"]
    receipts = await rows(c, inbound_receipts)
    assert [r.status for r in receipts] == ["quarantined", "quarantined"]
    assert "RecordingUrl" in receipts[0].error
    assert "not a phone number" in receipts[1].error
    assert await rows(c, calls) == []


async def test_completing_the_callback_task_is_on_the_timeline(container: Container) -> None:
    c = container
    await make_voice_inbox(c)
    agent_id, sam = await make_agent(c, role="agent")
    _, viewer = await make_agent(c, "vic@acme.test", role="viewer")
    async with client_for(c) as client:
        r = await post_twilio(client, VOICE_URL, form("incoming_call"))
        record = twiml(r).find("Record")
        assert record is not None
        await post_twilio(client, record.get("action", ""), form("voicemail"))
        [task] = (await client.get("/api/v1/tasks", headers=auth(sam))).json()

        assert (
            await client.post(f"/api/v1/tasks/{task['id']}/done", headers=auth(viewer))
        ).status_code == 403
        r = await client.post(f"/api/v1/tasks/{task['id']}/done", headers=auth(sam))
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "done"
        assert (await client.get("/api/v1/tasks", headers=auth(sam))).json() == []
        done = (await client.get("/api/v1/tasks?status=done", headers=auth(sam))).json()
        assert [t["id"] for t in done] == [task["id"]]
        missing = await client.post("/api/v1/tasks/999/done", headers=auth(sam))
        assert missing.status_code == 404

    entries = await timeline(c, task["customer_id"])
    assert [e["kind"] for e in entries] == ["task_opened", "call", "task_done"]
    assert entries[-1]["data"] == {"task_id": task["id"], "kind": "callback", "by": agent_id}


async def test_an_agent_logs_a_call_by_hand(container: Container) -> None:
    c = container
    email_inbox = await make_email_inbox(c)
    agent_id, sam = await make_agent(c, role="agent")
    _, viewer = await make_agent(c, "vic@acme.test", role="viewer")
    first = await deliver_email(c, email_inbox, make_email()[0])
    body = {
        "customer_id": first.customer_id,
        "conversation_id": first.conversation_id,
        "direction": "outbound",
        "duration_seconds": 240,
        "notes": "Called Ana back: the parcel is at the depot, delivery Friday.",
    }
    async with client_for(c) as client:
        r = await client.post("/api/v1/calls", json=body, headers=auth(sam))
        assert r.status_code == 201, r.text
        assert (
            await client.post("/api/v1/calls", json=body, headers=auth(viewer))
        ).status_code == (403)
        other = {**body, "customer_id": 999, "conversation_id": None}
        assert (await client.post("/api/v1/calls", json=other, headers=auth(sam))).status_code == (
            404
        )
        tl = (
            await client.get(f"/api/v1/customers/{first.customer_id}/timeline", headers=auth(sam))
        ).json()

    assert [e["kind"] for e in tl] == ["call", "message"]
    data = tl[0]["data"]
    assert tl[0]["conversation_id"] == first.conversation_id
    assert data["notes"] == body["notes"]
    assert (data["direction"], data["duration_seconds"], data["logged_by"]) == (
        "outbound",
        240,
        agent_id,
    )


async def test_going_on_duty_needs_a_usable_phone(container: Container) -> None:
    c = container
    _, sam = await make_agent(c, role="agent")
    _, viewer = await make_agent(c, "vic@acme.test", role="viewer")
    async with client_for(c) as client:
        url = "/api/v1/agents/me/duty"
        r = await client.post(url, json={"on_duty": True}, headers=auth(sam))
        assert r.status_code == 422
        assert "phone" in r.json()["detail"]
        r = await client.post(url, json={"on_duty": True, "phone": "555-0110"}, headers=auth(sam))
        assert r.status_code == 422
        r = await client.post(
            url, json={"on_duty": True, "phone": "+1 415 555 0110"}, headers=auth(viewer)
        )
        assert r.status_code == 403
        r = await client.post(
            url, json={"on_duty": True, "phone": "+1 415 555 0110"}, headers=auth(sam)
        )
        assert r.json()["phone"] == "+14155550110"


async def test_a_second_call_from_the_same_number_is_the_same_customer(
    container: Container,
) -> None:
    c = container
    await make_voice_inbox(c)
    async with client_for(c) as client:
        await post_twilio(client, VOICE_URL, form("incoming_call"))
        await post_twilio(
            client, VOICE_URL, form("incoming_call", CallSid="CA11111111111111111111111111111111")
        )
    first, second = await rows(c, calls)
    assert first.customer_id == second.customer_id
