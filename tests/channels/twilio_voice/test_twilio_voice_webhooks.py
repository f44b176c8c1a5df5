"""Twilio Voice webhooks that must not be trusted or cannot be used: bad or
misapplied signatures are refused, unusable callbacks quarantined and acknowledged."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from tests.channels.twilio_voice.flow_support import STATE, rows
from tests.channels.twilio_voice.support import (
    BASE,
    STATUS_URL,
    VOICE_URL,
    client_for,
    form,
    make_voice_inbox,
    post_twilio,
    sign,
    verbs,
)

from threadline.bootstrap import Container
from threadline.storage.tables import calls, inbound_receipts

pytestmark = pytest.mark.anyio


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
