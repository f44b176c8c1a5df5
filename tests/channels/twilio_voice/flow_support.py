"""What the Twilio Voice end-to-end tests share: the call's parties as the
callback URLs carry them, agents going on duty, the voicemail TwiML we expect
(built with Twilio's own VoiceResponse), and rows read back from a table."""

from __future__ import annotations

from typing import Any

import httpx
import sqlalchemy as sa
from tests.channels.twilio_voice.support import VOICE_URL
from twilio.twiml.voice_response import VoiceResponse

from threadline.bootstrap import Container

__all__ = ["STATE", "auth", "go_on_duty", "rows", "voicemail_twiml"]

# The callback URLs carry the call's parties (the recording callback posts neither).
STATE = "?From=%2B14155550101&To=%2B14155550100&Direction=inbound"


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
