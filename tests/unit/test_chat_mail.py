"""core.chat_mail: the follow-up, transcript and missed-chat mails, as text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from threadline.core.chat_mail import (
    ChatLine,
    excerpt,
    followup_mail,
    missed_chat_mail,
    time_zone,
    transcript_mail,
)

NINE = datetime(2026, 11, 2, 9, 5, tzinfo=UTC)
UTC_ZONE = time_zone("UTC")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("one line", "one line"),
        ("\n\n  padded  \n\n", "padded"),
        ("a\nb\nc", "a\nb\nc"),
        ("a\n\nb\nc\nd\ne", "a\nb\nc\n…"),
        ("x" * 400, "x" * 299 + "…"),
        ("", ""),
    ],
)
def test_an_excerpt_is_the_first_few_lines(text: str, expected: str) -> None:
    assert excerpt(text) == expected


def test_one_reply_or_several_and_the_way_back() -> None:
    one = followup_mail(
        [ChatLine("Sam", NINE, "Yes.")], business="Acme", page="https://shop.example", zone=UTC_ZONE
    )
    assert one.text.startswith("You left the chat before Acme could answer, so here is our reply:")
    assert "Sam, 2 Nov 2026, 09:05:\nYes." in one.text
    assert one.text.rstrip().endswith("or go back to the chat: https://shop.example")
    two = followup_mail(
        [ChatLine("Sam", NINE, "Yes."), ChatLine("Sam", NINE, "And no.")],
        business="Acme",
        page=None,
        zone=UTC_ZONE,
    )
    assert "here are our replies:" in two.text
    assert "go back" not in two.text


def test_times_are_the_business_s_and_an_unknown_zone_is_utc() -> None:
    berlin = transcript_mail(
        [ChatLine("You", NINE, "hi")], business="A", zone=time_zone("Europe/Berlin")
    )
    assert "You, 2 Nov 2026, 10:05:" in berlin.text
    assert time_zone("Mars/Olympus") == UTC_ZONE
    assert time_zone(None) == UTC_ZONE


def test_a_subject_stays_on_one_line_whatever_the_names() -> None:
    mail = followup_mail([], business="Acme\r\nBcc: x@evil.example", page=None, zone=UTC_ZONE)
    assert "\n" not in mail.subject
    assert "\r" not in mail.subject
    alert = missed_chat_mail(
        customer="Eve\nBcc: x",
        inbox="chat",
        waiting_since=NINE,
        first="hi",
        link="L",
        zone=UTC_ZONE,
    )
    assert alert.subject == "Missed chat from Eve Bcc: x"
    nameless = missed_chat_mail(
        customer="", inbox="chat", waiting_since=NINE, first="hi", link="L", zone=UTC_ZONE
    )
    assert nameless.subject == "Missed chat from A visitor"


@given(who=st.text(max_size=40), said=st.text(max_size=200), file_name=st.text(max_size=40))
def test_the_transcript_html_shows_typed_text_as_text(who: str, said: str, file_name: str) -> None:
    line = ChatLine(who or "x", NINE, said, files=(file_name,))
    page = transcript_mail([line], business="Acme <b>", zone=UTC_ZONE).html
    assert page is not None
    body = page.split("<body>", 1)[1].split("</body>", 1)[0]
    tags = {"<p>", "</p>", "<br>", "<strong>", "</strong>", "</span>"}
    stripped = body
    for tag in tags:
        stripped = stripped.replace(tag, "")
    stripped = stripped.replace('<p style="margin:0 0 14px">', "").replace(
        '<span style="color:#59636e">', ""
    )
    assert "<" not in stripped
    assert ">" not in stripped
