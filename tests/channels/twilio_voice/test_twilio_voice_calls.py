"""Twilio Voice calls, end to end: what agents see after a call is answered, missed
or left as a voicemail: the call on the timeline, the conversation it joined, the
callback task owed and its completion, and retried callbacks stored once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from tests.channels.twilio_voice.flow_support import auth, go_on_duty, rows
from tests.channels.twilio_voice.support import (
    ANA_PHONE,
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
from twilio.twiml.voice_response import Hangup, VoiceResponse

from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.storage.tables import calls, inbound_receipts, tasks

pytestmark = pytest.mark.anyio

TRANSCRIPT = "Hi, this is Ana. My order 4417 still hasn't arrived, please call me back."


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
