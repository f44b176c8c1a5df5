"""Twilio Voice webhooks: the incoming call, and the callbacks that follow it.

Each request is checked against X-Twilio-Signature with the inbox's auth
token, stored as a receipt (Twilio retries a request that failed or timed
out; the receipt keyed by CallSid and event makes each retry harmless), and
answered: with TwiML that rings the agents on duty or takes a voicemail, or
with an empty document for the callbacks that only inform us.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from litestar import Request, Response, post
from litestar.exceptions import PermissionDeniedException
from sqlalchemy.engine import Connection

from threadline.actions.receipts import Payload
from threadline.bootstrap import Container
from threadline.channels.twilio import twiml, voice
from threadline.channels.twilio.signature import is_valid_signature
from threadline.channels.twilio.sms import form_params
from threadline.core.identity import InvalidIdentity, normalize_phone
from threadline.core.sla import Target, callback_target
from threadline.ports import Inbox
from threadline.queries.sla_policies import callback_policy
from threadline.storage.tables import users
from threadline.web.webhooks.common import container_of, inbox_by_address, signed_url

__all__ = ["ROUTES"]

MAX_DIALED = 10  # Twilio rings at most ten <Number>s at once
Req = Request[Any, Any, Any]


@dataclass(frozen=True, slots=True)
class _Call:
    container: Container
    inbox: Inbox
    params: dict[str, str]
    url: str


async def _accept(request: Req, hook: str) -> _Call:
    """Find the inbox, check the signature, and store the request durably."""
    container = container_of(request)
    body = await request.body()
    url = signed_url(request)
    params = voice.call_params(body, url)
    number = voice.our_number(params)
    with contextlib.suppress(InvalidIdentity):
        number = normalize_phone(number)
    inbox = await inbox_by_address(request, ("voice",), number)
    token = str(inbox.config.get("auth_token") or "")
    signature = request.headers.get("x-twilio-signature", "")
    # Twilio signs the URL (our callback state in its query included) and the form.
    if not is_valid_signature(token, url, form_params(body), signature):
        raise PermissionDeniedException("bad or missing X-Twilio-Signature")
    payload = Payload(inbox.id, "twilio_voice", body, {"hook": hook, "url": url})
    await container.bus.ingest_all(payload)
    return _Call(container, inbox, params, url)


def _twiml(document: str) -> Response[str]:
    return Response(document, media_type="text/xml", status_code=200)


def _phones_on_duty(conn: Connection) -> list[str]:
    return list(
        conn.execute(
            sa.select(users.c.phone)
            .where(
                users.c.on_duty.is_(True),
                users.c.phone.is_not(None),
                users.c.role.in_(("admin", "agent")),
            )
            .order_by(users.c.id)
            .limit(MAX_DIALED)
        ).scalars()
    )


async def _callback(call: _Call) -> Target:
    """The callback target a caller is promised in the voicemail greeting: the voice
    policy's (normal priority, as nobody has looked at the call yet), or the inbox's."""
    policy = await call.container.db.read(callback_policy)
    return callback_target(policy, call.inbox.config)


@post(voice.VOICE_PATH, status_code=200, summary="Answer an incoming call (Twilio Voice URL)")
async def voice_incoming(request: Req) -> Response[str]:
    call = await _accept(request, "incoming")
    phones = await call.container.db.read(_phones_on_duty)
    now = call.container.clock.now()
    urls = voice.callback_urls(call.url, call.params)
    return _twiml(voice.incoming(call.inbox, now, phones, urls, await _callback(call)))


@post(
    voice.VOICE_PATH + voice.HOOKS["dial-done"],
    status_code=200,
    summary="The agents' phones stopped ringing: voicemail unless one answered",
)
async def voice_dial_done(request: Req) -> Response[str]:
    call = await _accept(request, "dial-done")
    now = call.container.clock.now()
    urls = voice.callback_urls(call.url, call.params)
    return _twiml(voice.after_dial(call.inbox, now, call.params, urls, await _callback(call)))


@post(
    voice.VOICE_PATH + voice.HOOKS["voicemail"],
    status_code=200,
    summary="A voicemail was recorded",
)
async def voice_voicemail(request: Req) -> Response[str]:
    await _accept(request, "voicemail")
    return _twiml(twiml.hangup())


@post(voice.VOICE_PATH + voice.HOOKS["status"], status_code=200, summary="A call status callback")
async def voice_status(request: Req) -> Response[str]:
    await _accept(request, "status")
    return _twiml(twiml.empty())


@post(
    voice.VOICE_PATH + voice.HOOKS["recording"],
    status_code=200,
    summary="A recording status callback",
)
async def voice_recording(request: Req) -> Response[str]:
    await _accept(request, "recording")
    return _twiml(twiml.empty())


@post(
    voice.VOICE_PATH + voice.HOOKS["transcription"],
    status_code=200,
    summary="A voicemail's transcription",
)
async def voice_transcription(request: Req) -> Response[str]:
    await _accept(request, "transcription")
    return _twiml(twiml.empty())


ROUTES = [
    voice_incoming,
    voice_dial_done,
    voice_voicemail,
    voice_status,
    voice_recording,
    voice_transcription,
]
