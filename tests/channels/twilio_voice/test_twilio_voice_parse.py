"""The voice parser on Twilio's documented webhook forms, and the TwiML we
answer with, compared byte for byte with Twilio's own VoiceResponse."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from tests.channels.twilio_voice.support import (
    ACCOUNT_SID,
    ANA_PHONE,
    AUTH_TOKEN,
    CALL_SID,
    OUR_NUMBER,
    RECORDING_SID,
    form,
)
from twilio.twiml.voice_response import Dial, VoiceResponse

from threadline.channels.twilio import twiml
from threadline.channels.twilio.voice import (
    VoiceParser,
    call_params,
    callback_urls,
)
from threadline.core.model import CallEvent, IdentityRef, Ignored, ParseResult
from threadline.core.promise import describe_when
from threadline.ports import Inbox

INBOX = Inbox(
    1, "voice", "Acme", OUR_NUMBER, {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}
)
ANA = IdentityRef("phone", ANA_PHONE)
STATE_URL = "https://help.acme.test/webhooks/twilio/voice/recording?" + urlencode(
    {"From": ANA_PHONE, "To": OUR_NUMBER, "Direction": "inbound"}
)
RECORDING_URL = (
    f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING_SID}"
)


def parse(hook: str, params: dict[str, str], url: str | None = None) -> ParseResult:
    context = {"hook": hook, "url": url or "https://help.acme.test/webhooks/twilio/voice"}
    result = VoiceParser()(INBOX, urlencode(params).encode(), context)
    assert isinstance(result, CallEvent | Ignored)
    return result


def call(**fields: object) -> CallEvent:
    return CallEvent(call_id=CALL_SID, caller=ANA, direction="inbound", **fields)


@pytest.mark.parametrize(
    ("hook", "fixture", "expected"),
    [
        (
            "incoming",
            "incoming_call",
            call(key=f"{CALL_SID}:ringing", status="ringing", caller_name="ANA SOUZA"),
        ),
        (
            "dial-done",
            "dial_done_no_answer",
            call(key=f"{CALL_SID}:dial-done:no-answer", answered=False),
        ),
        (
            "dial-done",
            "dial_done_completed",
            call(
                key=f"{CALL_SID}:dial-done:completed",
                status="completed",
                answered=True,
                duration_seconds=95,
            ),
        ),
        (
            "voicemail",
            "voicemail",
            call(
                key=RECORDING_SID, voicemail=True, recording_url=RECORDING_URL, recording_seconds=14
            ),
        ),
        (
            "transcription",
            "transcription",
            call(
                key="TR0a1b2c3d4e5f60718293a4b5c6d7e8f9",
                voicemail=True,
                recording_url=RECORDING_URL,
                transcription=(
                    "Hi, this is Ana. My order 4417 still hasn't arrived, please call me back."
                ),
            ),
        ),
        (
            "status",
            "status_completed",
            call(key=f"{CALL_SID}:completed", status="completed", duration_seconds=48),
        ),
    ],
)
def test_documented_forms(hook: str, fixture: str, expected: CallEvent) -> None:
    assert parse(hook, form(fixture)) == expected


def test_the_recording_callback_names_the_caller_only_in_our_url() -> None:
    params = form("recording_completed")
    assert "From" not in params
    assert "To" not in params
    assert parse("recording", params, STATE_URL) == call(
        key=f"{RECORDING_SID}:completed",
        recording_url=RECORDING_URL,
        recording_seconds=14,
        voicemail=True,
    )
    with pytest.raises(ValueError, match="not a phone number"):
        parse("recording", params, "https://help.acme.test/webhooks/twilio/voice/recording")
    absent = parse("recording", form("recording_completed", RecordingStatus="absent"), STATE_URL)
    assert absent == Ignored(f"recording {RECORDING_SID} is absent", key=f"{RECORDING_SID}:absent")
    dialed = parse("recording", form("recording_completed", RecordingSource="DialVerb"), STATE_URL)
    assert isinstance(dialed, CallEvent)
    assert dialed.voicemail is False


def test_form_values_win_over_the_url_state() -> None:
    params = call_params(b"From=%2B14155550199&CallSid=CA1", STATE_URL)
    assert params["From"] == "+14155550199"
    assert params["To"] == OUR_NUMBER


def test_a_call_we_placed_is_about_the_number_we_called() -> None:
    placed = {
        **form("status_completed"),
        "Direction": "outbound-api",
        "From": OUR_NUMBER,
        "To": ANA_PHONE,
    }
    event = parse("status", {**placed, "CallStatus": "in-progress"})
    assert isinstance(event, CallEvent)
    assert (event.caller, event.direction, event.answered, event.status) == (
        ANA,
        "outbound",
        True,
        None,
    )
    busy = parse("status", {**placed, "CallStatus": "busy"})
    assert isinstance(busy, CallEvent)
    assert (busy.status, busy.answered) == ("busy", False)


def test_late_early_statuses_change_nothing() -> None:
    event = parse("status", form("status_completed", CallStatus="ringing", CallDuration=None))
    assert event == call(key=f"{CALL_SID}:ringing")


def test_a_dialed_agent_leg_is_ignored() -> None:
    leg = form("status_completed", Direction="outbound-dial", To="+14155550110")
    result = parse("status", leg)
    assert isinstance(result, Ignored)
    assert result.key is not None
    assert result.key.startswith(f"{CALL_SID}:status:")


def test_caller_hanging_up_while_agents_ring_ends_the_call() -> None:
    event = parse("dial-done", form("dial_done_no_answer", CallStatus="completed"))
    assert isinstance(event, CallEvent)
    assert (event.status, event.answered) == ("completed", False)


def test_failed_transcription_is_ignored() -> None:
    result = parse("transcription", form("transcription", TranscriptionStatus="failed"))
    assert result == Ignored(
        "transcription TR0a1b2c3d4e5f60718293a4b5c6d7e8f9 failed",
        key="TR0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    )


@pytest.mark.parametrize(
    ("hook", "params", "error"),
    [
        ("incoming", form("incoming_call", CallSid=None), "CallSid"),
        ("incoming", form("incoming_call", From="anonymous"), "not a phone number"),
        ("status", form("status_completed", CallDuration="soon"), "CallDuration"),
        ("status", form("status_completed", CallStatus="exploded"), "CallStatus"),
        ("voicemail", form("voicemail", RecordingUrl=None), "RecordingUrl"),
        ("hold-music", form("incoming_call"), "unknown voice webhook"),
    ],
)
def test_unusable_forms_are_errors(hook: str, params: dict[str, str], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse(hook, params)


def test_callback_urls_keep_the_host_and_prefix_twilio_used() -> None:
    params = {"From": ANA_PHONE, "To": OUR_NUMBER, "Direction": "inbound", "CallSid": CALL_SID}
    urls = callback_urls("https://acme.test/help/webhooks/twilio/voice", params)
    state = "?From=%2B14155550101&To=%2B14155550100&Direction=inbound"
    assert urls.dial_done == f"https://acme.test/help/webhooks/twilio/voice/dial-done{state}"
    assert urls.recording == f"https://acme.test/help/webhooks/twilio/voice/recording{state}"
    again = callback_urls(urls.dial_done, params)
    assert again == urls


def test_twiml_is_what_twilios_sdk_writes() -> None:
    expected = VoiceResponse()
    dial = Dial(action="https://a.test/d?x=1&y=2", answer_on_bridge=True, timeout=20)
    dial.number("+14155550110")
    dial.number("+4930901820")
    expected.append(dial)
    assert twiml.dial(["+14155550110", "+4930901820"], action="https://a.test/d?x=1&y=2") == str(
        expected
    )

    greeting = 'Thanks for calling Smith & Sons <support>. We\'re "closed".'
    expected = VoiceResponse()
    expected.say(greeting)
    expected.record(
        action="https://a.test/v",
        max_length=120,
        play_beep=True,
        transcribe=True,
        transcribe_callback="https://a.test/t",
        recording_status_callback="https://a.test/r",
    )
    expected.hangup()
    ours = twiml.voicemail(
        greeting,
        action="https://a.test/v",
        transcribe_callback="https://a.test/t",
        recording_callback="https://a.test/r",
    )
    assert ours == str(expected)
    assert "Smith &amp; Sons &lt;support&gt;" in ours
    assert twiml.empty() == str(VoiceResponse())


BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("when", "said"),
    [
        (datetime(2026, 11, 2, 13, 0, tzinfo=BERLIN), "today at 13:00"),
        (datetime(2026, 11, 3, 9, 0, tzinfo=BERLIN), "tomorrow at 9:00"),
        (datetime(2026, 11, 6, 9, 30, tzinfo=BERLIN), "on Friday at 9:30"),
        (datetime(2026, 12, 28, 9, 0, tzinfo=BERLIN), "on Monday, 28 December at 9:00"),
    ],
)
def test_the_next_opening_as_a_caller_hears_it(when: datetime, said: str) -> None:
    # 23:30 UTC on Sunday is already Monday in Berlin.
    now = datetime(2026, 11, 1, 23, 30, tzinfo=UTC)
    assert describe_when(when, now, spoken=True) == said
