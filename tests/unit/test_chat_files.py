"""The files a chat carries are the same both ways: what a visitor may upload, an
agent may send back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from threadline.core.capabilities import CHAT_FILES, ReplyRefused, check_reply
from threadline.core.model import Channel
from threadline.web.widget.service import UPLOAD_TYPES

NOW = datetime(2026, 11, 29, 9, tzinfo=UTC)


@pytest.mark.parametrize("content_type", sorted(UPLOAD_TYPES))
def test_an_agent_can_send_on_chat_every_type_a_visitor_can_upload(content_type: str) -> None:
    check_reply(
        Channel.CHAT,
        "here you go",
        now=NOW,
        last_inbound_at=NOW,
        attachments=[(content_type, 2048)],
    )


@pytest.mark.parametrize("content_type", ["image/svg+xml", "text/html", "application/zip"])
def test_types_a_widget_would_not_show_safely_are_refused_on_chat(content_type: str) -> None:
    assert content_type not in CHAT_FILES
    with pytest.raises(ReplyRefused, match="does not accept"):
        check_reply(
            Channel.CHAT,
            "here you go",
            now=NOW,
            last_inbound_at=NOW,
            attachments=[(content_type, 2048)],
        )
