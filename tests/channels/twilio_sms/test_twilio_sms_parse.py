"""The SMS and status parsers on Twilio's documented webhook forms."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from tests.channels.twilio_sms.support import ACCOUNT_SID, ANA_PHONE, AUTH_TOKEN, OUR_NUMBER, form

from threadline.channels.twilio.sms import SmsParser, StatusParser
from threadline.core.model import Channel, DeliveryStatus, Ignored, InboundMessage, StatusUpdate
from threadline.ports import Inbox

INBOX = Inbox(
    1, "sms", "Acme SMS", OUR_NUMBER, {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}
)


def body(params: dict[str, str]) -> bytes:
    return urlencode(params).encode()


def parse_sms(params: dict[str, str]) -> InboundMessage:
    result = SmsParser()(INBOX, body(params), {})
    assert isinstance(result, InboundMessage)
    return result


def parse_status(params: dict[str, str]) -> StatusUpdate | Ignored:
    result = StatusParser()(INBOX, body(params), {})
    assert isinstance(result, StatusUpdate | Ignored)
    return result


def test_inbound_sms() -> None:
    msg = parse_sms(form("inbound_sms"))
    assert msg.channel is Channel.SMS
    assert msg.provider_message_id == "SM9c1c4d3e1f2a4b5c6d7e8f9a0b1c2d3e"
    assert (msg.sender.kind, msg.sender.value, msg.sender.verified) == ("phone", ANA_PHONE, True)
    assert msg.text == "Hi, my order #4417 never arrived. Any update?"
    assert msg.attachments == ()
    assert "media" not in msg.meta
    assert msg.meta["from_country"] == "US"


def test_sender_number_is_normalized_to_e164() -> None:
    msg = parse_sms(form("inbound_sms", From="+1 (415) 555-0101"))
    assert msg.sender.value == ANA_PHONE


def test_mms_photos_only_get_placeholders_and_urls_not_downloads() -> None:
    msg = parse_sms(form("inbound_mms"))
    assert msg.provider_message_id.startswith("MM")
    assert msg.text == "[image] [image]"
    assert msg.attachments == ()  # fetching media is I/O; parsers do none
    media = msg.meta["media"]
    assert media == [  # type: ignore[comparison-overlap]
        {
            "url": form("inbound_mms")["MediaUrl0"],
            "content_type": "image/jpeg",
        },
        {
            "url": form("inbound_mms")["MediaUrl1"],
            "content_type": "image/png",
        },
    ]


def test_mms_with_text_keeps_the_text() -> None:
    msg = parse_sms(
        form(
            "inbound_mms",
            Body="Here is the broken box",
            NumMedia="1",
            MediaContentType0="video/mp4",
            MediaUrl1=None,
            MediaContentType1=None,
        )
    )
    assert msg.text == "Here is the broken box"
    assert [m["content_type"] for m in msg.meta["media"]] == ["video/mp4"]  # type: ignore[index]


def test_unknown_media_type_is_an_attachment_placeholder() -> None:
    msg = parse_sms(
        form("inbound_mms", NumMedia="1", MediaContentType0="text/vcard", MediaUrl1=None)
    )
    assert msg.text == "[attachment]"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"From": None}, "no From"),
        ({"From": "not a number"}, "phone number"),
        ({"MessageSid": None, "SmsSid": None}, "MessageSid"),
        ({"NumMedia": "two"}, "NumMedia"),
    ],
)
def test_unusable_forms_raise_for_quarantine(changes: dict[str, str], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        SmsParser()(INBOX, body(form("inbound_sms", **changes)), {})


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("sent", DeliveryStatus.SENT),
        ("delivered", DeliveryStatus.DELIVERED),
        ("read", DeliveryStatus.READ),
    ],
)
def test_status_callbacks_map_to_delivery_statuses(status: str, expected: DeliveryStatus) -> None:
    sid = "SM2f8e0b1c3d5e7f9a1b3c5d7e9f1a3b5c"
    update = parse_status(form("status_delivered", MessageStatus=status, SmsStatus=status))
    assert update == StatusUpdate(
        expected, provider_message_ids=(sid,), key=f"twilio-status:{sid}:{status}"
    )


@pytest.mark.parametrize("status", ["queued", "accepted", "sending", "scheduled"])
def test_in_flight_statuses_are_ignored_with_their_own_key(status: str) -> None:
    update = parse_status(form("status_sent", MessageStatus=status, SmsStatus=status))
    assert isinstance(update, Ignored)
    assert update.key == f"twilio-status:SM2f8e0b1c3d5e7f9a1b3c5d7e9f1a3b5c:{status}"


@pytest.mark.parametrize(
    ("status", "code", "reason"),
    [
        ("undelivered", "30003", "phone is unreachable (switched off or out of coverage)"),
        ("undelivered", "30004", "blocked"),
        ("undelivered", "30005", "no longer in service"),
        ("undelivered", "30006", "landline"),
        ("undelivered", "30007", "spam"),
        ("undelivered", "30008", "unknown delivery error"),
        ("failed", "21610", "unsubscribed from this number (replied STOP)"),
        ("failed", "21211", "not a valid phone number"),
    ],
)
def test_failures_carry_a_plain_reason(status: str, code: str, reason: str) -> None:
    update = parse_status(
        form("status_undelivered_30003", MessageStatus=status, SmsStatus=status, ErrorCode=code)
    )
    assert isinstance(update, StatusUpdate)
    assert update.status is DeliveryStatus.FAILED
    assert update.error is not None
    assert reason in update.error
    assert update.error.endswith(f"(Twilio error {code})")
    assert update.key == f"twilio-status:SM2f8e0b1c3d5e7f9a1b3c5d7e9f1a3b5c:{status}"


def test_unknown_error_code_and_no_code_still_read_clearly() -> None:
    odd = parse_status(form("status_undelivered_30003", ErrorCode="30999"))
    assert isinstance(odd, StatusUpdate)
    assert odd.error == "Twilio error 30999"
    none = parse_status(form("status_undelivered_30003", ErrorCode=None))
    assert isinstance(none, StatusUpdate)
    assert none.error == "Twilio gave no reason"


def test_status_callback_without_sid_or_status_raises() -> None:
    with pytest.raises(ValueError, match="MessageSid"):
        StatusParser()(INBOX, body(form("status_sent", MessageSid=None, SmsSid=None)), {})
    with pytest.raises(ValueError, match="MessageStatus"):
        StatusParser()(INBOX, body(form("status_sent", MessageStatus=None, SmsStatus=None)), {})
