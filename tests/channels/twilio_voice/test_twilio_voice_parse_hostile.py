"""The voice parser on forms Twilio would never post: PayloadError, never
another exception, and never a value the store cannot hold."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from tests.channels.twilio_voice.support import form

from threadline.channels.twilio.voice import VoiceParser
from threadline.core.model import PayloadError
from threadline.ports import Inbox

INBOX = Inbox(1, "voice", "Acme phone", "+14155550100", {})
URL = "https://help.acme.test/webhooks/twilio/voice/status"


@pytest.mark.parametrize(
    ("name", "hook", "changes"),
    [
        # an INTEGER column overflowed at the INSERT, after the payload was accepted
        ("status_completed", "status", {"CallDuration": "99999999999999999999"}),
        ("status_completed", "status", {"CallDuration": "-5"}),
        ("status_completed", "status", {"CallSid": "CA" + "f" * 100}),
        ("recording_completed", "recording", {"RecordingStatus": "x" * 1000}),
        ("incoming_call", "incoming", {"From": "anonymous"}),  # was a bare ValueError
        ("incoming_call", "nonsense", {}),
    ],
)
def test_unusable_voice_forms_raise_payload_error(
    name: str, hook: str, changes: dict[str, str | None]
) -> None:
    body = urlencode(form(name, **changes)).encode()
    with pytest.raises(PayloadError):
        VoiceParser()(INBOX, body, {"hook": hook, "url": URL})
