"""Twilio Programmable Voice: what a call's webhooks mean, and what we answer.

One call reaches us several times: the incoming call, the end of the agents'
ringing (``<Dial action>``), the voicemail (``<Record action>``), the
recording and transcription callbacks, and the call status callback. The
webhook stores each request as a receipt whose context names the route; the
parser turns it into one ``CallEvent`` that says only what that request knows.

Every callback URL we hand Twilio carries the call's ``From``, ``To`` and
``Direction`` in its query, because the recording status callback posts
neither number, and without them we could find neither the inbox nor the
caller. The query is part of the signed URL, so it cannot be forged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import structlog

from threadline.channels.checks import clean_text
from threadline.channels.twilio import twiml
from threadline.channels.twilio.sms import form_params
from threadline.core.hours import is_open, next_open, parse_hours
from threadline.core.identity import InvalidIdentity, normalize
from threadline.core.model import CallEvent, IdentityRef, Ignored, ParseResult, PayloadError
from threadline.core.promise import describe_when, promise
from threadline.core.sla import Target
from threadline.ports import Inbox

__all__ = [
    "HOOKS",
    "VOICE_PATH",
    "CallbackUrls",
    "VoiceParser",
    "after_dial",
    "call_params",
    "callback_urls",
    "greeting",
    "incoming",
    "our_number",
]

log = structlog.get_logger(__name__)

VOICE_PATH = "/webhooks/twilio/voice"
# Receipt context "hook" -> the route under VOICE_PATH ("" is the number's Voice URL).
HOOKS = {
    "incoming": "",
    "status": "/status",
    "dial-done": "/dial-done",
    "voicemail": "/voicemail",
    "recording": "/recording",
    "transcription": "/transcription",
}
_FINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
# Earlier statuses only tell us the call exists. Callbacks are asynchronous and
# may arrive out of order: a late "ringing" must not reopen an ended call.
_EARLY = frozenset({"queued", "initiated", "ringing", "in-progress"})
_ANSWERED = frozenset({"completed", "answered"})  # DialCallStatus of a bridged call
_STATE = ("From", "To", "Direction")
_MAX_SECONDS_DIGITS = 9  # over 30 years: any longer is not a call, and overflows INTEGER


# -- reading a request ------------------------------------------------------------
def call_params(body: bytes, url: str | None) -> dict[str, str]:
    """The request's parameters: the form, over the state our callback URL carries."""
    query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True)) if url else {}
    return {**query, **dict(form_params(body))}


def _outbound(params: Mapping[str, str]) -> bool:
    return params.get("Direction", "inbound").startswith("outbound")


def our_number(params: Mapping[str, str]) -> str:
    """The inbox's number: Twilio's ``To`` on an inbound call, ``From`` on one we placed."""
    return params.get("From" if _outbound(params) else "To", "")


def _caller(params: Mapping[str, str]) -> IdentityRef:
    raw = params.get("To" if _outbound(params) else "From", "")
    try:
        return normalize("phone", raw)
    except InvalidIdentity as exc:
        # Withheld numbers ("anonymous") and browser clients have no phone identity.
        raise PayloadError(f"the caller is not a phone number: {raw!r}") from exc


def _seconds(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= _MAX_SECONDS_DIGITS):
        raise PayloadError(f"{name} is not a number of seconds: {raw[:40]!r}")
    return int(raw)


def _required(params: Mapping[str, str], name: str, limit: int = 64) -> str:
    """A value the request must carry; Twilio's sids and statuses are short, and
    the store keeps keys and call ids in bounded columns."""
    value = params.get(name, "").strip()
    if not value:
        raise PayloadError(f"the request has no {name}")
    if len(value) > limit:
        raise PayloadError(f"{name} is longer than {limit} characters")
    return value


class VoiceParser:
    """Reads one stored voice webhook request; context ``hook`` names the route."""

    offload = False

    def __call__(self, inbox: Inbox, body: bytes, context: Mapping[str, Any]) -> ParseResult:
        # NUL and lone surrogates (from %-escapes) would fail only at the INSERT
        raw_url = context.get("url")
        found = call_params(body, raw_url if isinstance(raw_url, str) else None)
        params = {name: clean_text(value) for name, value in found.items()}
        hook = str(context.get("hook", ""))
        sid = _required(params, "CallSid")
        if params.get("Direction") == "outbound-dial":
            # A leg we dialed to an agent: the parent call carries the customer.
            digest = hashlib.sha256(body).hexdigest()[:16]
            return Ignored("a dialed agent leg, not a customer call", key=f"{sid}:{hook}:{digest}")
        event = CallEvent(
            call_id=sid,
            key=sid,
            caller=_caller(params),
            direction="outbound" if _outbound(params) else "inbound",
        )
        read = _READERS.get(hook)
        if read is None:
            raise PayloadError(f"unknown voice webhook: {hook[:40]!r}")
        return read(event, params)


def _incoming(event: CallEvent, params: Mapping[str, str]) -> ParseResult:
    return replace(
        event,
        key=f"{event.call_id}:ringing",
        status="ringing",
        caller_name=params.get("CallerName") or None,
    )


def _status(event: CallEvent, params: Mapping[str, str]) -> ParseResult:
    status = _required(params, "CallStatus")
    if status not in _FINAL | _EARLY:
        raise PayloadError(f"unknown CallStatus {status!r}")
    answered = None
    if event.direction == "outbound" and status not in ("queued", "initiated", "ringing"):
        # On a call we placed, the customer picking up is what "answered" means;
        # on an inbound one Twilio answers at once, so only <Dial> can tell.
        answered = status in ("in-progress", "completed")
    return replace(
        event,
        key=f"{event.call_id}:{status}",
        status=status if status in _FINAL else None,
        duration_seconds=_seconds(params, "CallDuration"),
        answered=answered,
    )


def _dial_done(event: CallEvent, params: Mapping[str, str]) -> ParseResult:
    dial_status = _required(params, "DialCallStatus")
    answered = dial_status in _ANSWERED
    call_status = params.get("CallStatus", "")
    if answered:
        status: str | None = "completed"  # we answer with <Hangup/>: the call is over
    else:
        # The caller hanging up while agents rang ends the call here too.
        status = call_status if call_status in _FINAL else None
    return replace(
        event,
        key=f"{event.call_id}:dial-done:{dial_status}",
        status=status,
        answered=answered,
        duration_seconds=_seconds(params, "DialCallDuration") if answered else None,
    )


def _voicemail(event: CallEvent, params: Mapping[str, str]) -> ParseResult:
    return replace(
        event,
        key=_required(params, "RecordingSid"),
        voicemail=True,
        recording_url=_required(params, "RecordingUrl", limit=2000),
        recording_seconds=_seconds(params, "RecordingDuration"),
    )


def _recording(event: CallEvent, params: Mapping[str, str]) -> ParseResult:
    recording = _required(params, "RecordingSid")
    status = _required(params, "RecordingStatus")
    key = f"{recording}:{status}"
    if status != "completed":
        return Ignored(f"recording {recording} is {status}", key=key)
    return replace(
        event,
        key=key,
        recording_url=_required(params, "RecordingUrl", limit=2000),
        recording_seconds=_seconds(params, "RecordingDuration"),
        # <Record> is how we take voicemail; a <Dial> recording is a conversation.
        voicemail=params.get("RecordingSource") == "RecordVerb",
    )


def _transcription(event: CallEvent, params: Mapping[str, str]) -> ParseResult:
    transcription = _required(params, "TranscriptionSid")
    status = params.get("TranscriptionStatus", "completed")
    if status != "completed":
        return Ignored(f"transcription {transcription} {status}", key=transcription)
    return replace(
        event,
        key=transcription,
        transcription=params.get("TranscriptionText", "").strip(),
        recording_url=params.get("RecordingUrl") or None,
        voicemail=True,  # only <Record>, our voicemail, asks for transcriptions
    )


_READERS = {
    "incoming": _incoming,
    "status": _status,
    "dial-done": _dial_done,
    "voicemail": _voicemail,
    "recording": _recording,
    "transcription": _transcription,
}


# -- answering a call ---------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CallbackUrls:
    dial_done: str
    voicemail: str
    recording: str
    transcription: str


def callback_urls(signed_url: str, params: Mapping[str, str]) -> CallbackUrls:
    """Absolute URLs on the host and path prefix Twilio used to reach us, so the
    URLs Twilio signs on the callbacks are the ones we will check."""
    path = signed_url.split("?", 1)[0]
    at = path.rfind(VOICE_PATH)
    if at < 0:
        raise ValueError(f"not a voice webhook URL: {signed_url!r}")
    base = path[: at + len(VOICE_PATH)]
    state = urlencode({k: params[k] for k in _STATE if params.get(k)})

    def url(hook: str) -> str:
        return base + HOOKS[hook] + (f"?{state}" if state else "")

    return CallbackUrls(url("dial-done"), url("voicemail"), url("recording"), url("transcription"))


def _open(inbox: Inbox, now: datetime) -> bool:
    try:
        return is_open(inbox.config.get("hours"), now)
    except ValueError:
        # A broken calendar must not send every caller to voicemail.
        log.warning("voice.hours_unreadable", inbox=inbox.id, exc_info=True)
        return True


def _next_opening(inbox: Inbox, now: datetime) -> str | None:
    try:
        return describe_when(next_open(inbox.config.get("hours"), now), now, spoken=True)
    except ValueError:
        return None  # never open again: say nothing rather than something false


def _callback_when(inbox: Inbox, now: datetime, callback: Target | None) -> str | None:
    """When a caller who leaves a message now can expect the call back, in the words
    of core/promise.py: "within 2 hours", "by tomorrow at 11:00"."""
    if callback is None:
        return None
    hours = inbox.config.get("hours")
    try:
        calendar = parse_hours(hours if isinstance(hours, dict) else None)
        return promise(calendar, callback, now).expected
    except ValueError:  # a broken calendar: promise nothing rather than something false
        return None


def greeting(inbox: Inbox, now: datetime, callback: Target | None = None) -> str:
    """The inbox's ``greeting`` (``{next_open}`` and ``{callback}`` are filled in), or
    ours. With the callback target, the caller hears when to expect the call back."""
    open_now = _open(inbox, now)
    opening = None if open_now else _next_opening(inbox, now)
    back = _callback_when(inbox, now, callback)
    custom = inbox.config.get("greeting")
    if custom:
        return (
            str(custom)
            .replace("{next_open}", opening or "soon")
            .replace("{callback}", back or "as soon as we can")
        )
    hello = f"Thank you for calling {inbox.name}."
    ask = "Please leave a message after the beep, and we will call you back"
    if open_now:
        return f"{hello} Nobody can take your call right now. {ask} {back or 'as soon as we can'}."
    when = f" {back}" if back else ""
    if opening:
        return f"{hello} We are closed right now and open again {opening}. {ask}{when}."
    return f"{hello} We are closed right now. {ask}{when}."


def _take_voicemail(
    inbox: Inbox, now: datetime, urls: CallbackUrls, callback: Target | None
) -> str:
    return twiml.voicemail(
        greeting(inbox, now, callback),
        action=urls.voicemail,
        transcribe_callback=urls.transcription,
        recording_callback=urls.recording,
    )


def incoming(
    inbox: Inbox,
    now: datetime,
    phones: Sequence[str],
    urls: CallbackUrls,
    callback: Target | None = None,
) -> str:
    """Ring the agents on duty during business hours; otherwise take a voicemail."""
    if phones and _open(inbox, now):
        return twiml.dial(phones, action=urls.dial_done)
    return _take_voicemail(inbox, now, urls, callback)


def after_dial(
    inbox: Inbox,
    now: datetime,
    params: Mapping[str, str],
    urls: CallbackUrls,
    callback: Target | None = None,
) -> str:
    """Nobody picked up: take a voicemail. Somebody did: the call is over."""
    if params.get("DialCallStatus") in _ANSWERED:
        return twiml.hangup()
    if params.get("CallStatus") in _FINAL:
        return twiml.hangup()  # the caller has already hung up
    return _take_voicemail(inbox, now, urls, callback)
