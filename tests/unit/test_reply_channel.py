"""Where a reply goes when the agent does not pick: never a channel that cannot send."""

from __future__ import annotations

import pytest

from threadline.core.channels import default_reply_channel
from threadline.core.model import Channel as C


@pytest.mark.parametrize(
    ("last", "usable", "expected"),
    [
        ("email", [C.EMAIL, C.SMS], C.EMAIL),  # where the customer last wrote
        ("sms", [C.EMAIL, C.SMS], C.SMS),
        ("voice", [C.VOICE, C.SMS, C.EMAIL], C.SMS),  # a voicemail: the same number, by text
        ("voice", [C.VOICE, C.EMAIL], C.EMAIL),
        ("voice", [C.VOICE], None),  # nothing written can reach them
        ("whatsapp", [C.EMAIL], C.EMAIL),  # no WhatsApp inbox any more
        (None, [C.TELEGRAM, C.API], C.TELEGRAM),
        ("carrier-pigeon", [C.API], C.API),  # an unknown stored value is no channel
    ],
)
def test_the_default_reply_channel(last: str | None, usable: list[C], expected: C | None) -> None:
    assert default_reply_channel(last, usable) == expected
