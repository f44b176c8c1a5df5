"""The Twilio messaging parsers on forms Twilio would never post: PayloadError,
the parsers' one declared error, or a safe reading; never another exception."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from tests.channels.twilio_sms.support import form

from threadline.channels.twilio.sms import SmsParser, StatusParser
from threadline.core.model import InboundMessage, PayloadError
from threadline.ports import Inbox

INBOX = Inbox(1, "sms", "Acme SMS", "+14155550100", {})


@pytest.mark.parametrize(
    "changes",
    [
        {"From": "not a phone"},  # was a bare ValueError
        {"From": None},
        {"MessageSid": "SM" + "x" * 500, "SmsSid": None},  # too long for the receipt key
        {"NumMedia": "-1"},
        {"NumMedia": "١٢"},  # isdigit() says yes; not Twilio's
    ],
)
def test_unusable_sms_forms_raise_payload_error(changes: dict[str, str | None]) -> None:
    body = urlencode(form("inbound_sms", **changes)).encode()
    with pytest.raises(PayloadError):
        SmsParser()(INBOX, body, {})


def test_status_without_sid_is_a_payload_error() -> None:
    body = urlencode(form("status_delivered", MessageSid=None, SmsSid=None)).encode()
    with pytest.raises(PayloadError):
        StatusParser()(INBOX, body, {})


def test_nul_and_bad_escapes_never_reach_the_store() -> None:
    body = urlencode(form("inbound_sms", Body="hi")).encode() + b"&Body=a%00b%ff"
    msg = SmsParser()(INBOX, body, {})
    assert isinstance(msg, InboundMessage)
    assert "\x00" not in msg.text
