"""compose_reply builds mail that real clients thread, and that we read back."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage, MIMEPart

import pytest

from threadline.channels.email.compose import compose_reply, normalize_subject
from threadline.channels.email.loops import is_ours
from threadline.channels.email.parse import parse_email
from threadline.core.model import Ignored, InboundMessage
from threadline.core.tokens import new_message_id

PARENT = "CAJx9fPq3Rk+Lm2vC8Hc_T0dZ4y=8Q7sVb1nP5wX@mail.gmail.com"
OURS = "tl.5f0c1d6a9be24b7e8f3a6c2d1e0b9a87@support.example"
CET = timezone(timedelta(hours=1))


def reply(
    *,
    subject: str = "[#1042] Order never arrived",
    text: str = "Hello Ana,\n\nyour parcel is on its way.\n\nBest regards,\nSam",
    html: str | None = None,
    in_reply_to: str | None = PARENT,
    references: Sequence[str] = ("ticket-1042.msg-7@support.example",),
    reply_to: str | None = "reply+Yn7kQ2xv.9Zs_abc@support.example",
    auto_reply: bool = False,
    from_name: str | None = "Sam (Threadline Support)",
) -> EmailMessage:
    return compose_reply(
        from_addr="support@support.example",
        from_name=from_name,
        to="Ana Lima <ana.lima@gmail.com>",
        subject=subject,
        text=text,
        html=html,
        message_id=OURS,
        in_reply_to=in_reply_to,
        references=references,
        reply_to=reply_to,
        auto_reply=auto_reply,
        date=datetime(2025, 11, 3, 10, 12, tzinfo=CET),
    )


def wire(msg: EmailMessage) -> bytes:
    """What the sender transmits (and DKIM signs)."""
    return msg.as_bytes(policy=email.policy.SMTP)


def reread(msg: EmailMessage) -> EmailMessage:
    return email.message_from_bytes(wire(msg), policy=email.policy.default)


def content(part: MIMEPart | None) -> str:
    """A part's decoded text with the wire's CRLF line ends turned back into LF."""
    assert part is not None
    text = part.get_content()
    assert isinstance(text, str)
    return text.replace("\r\n", "\n")


def test_threading_headers() -> None:
    msg = reread(reply())
    assert str(msg["From"]) == '"Sam (Threadline Support)" <support@support.example>'
    assert str(msg["To"]) == "Ana Lima <ana.lima@gmail.com>"
    assert str(msg["Reply-To"]) == "reply+Yn7kQ2xv.9Zs_abc@support.example"
    assert str(msg["Subject"]) == "Re: [#1042] Order never arrived"
    assert str(msg["Date"]) == "Mon, 03 Nov 2025 10:12:00 +0100"
    assert str(msg["Message-ID"]) == f"<{OURS}>"
    assert str(msg["In-Reply-To"]) == f"<{PARENT}>"
    assert str(msg["References"]) == f"<ticket-1042.msg-7@support.example> <{PARENT}>"
    assert "Auto-Submitted" not in msg
    assert "X-Auto-Response-Suppress" not in msg


def test_long_references_fold_and_survive() -> None:
    refs = [f"<ticket-1042.msg-{i}@support.example>" for i in range(1, 30)]
    raw = wire(reply(references=refs))
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    parsed = parse_email(raw)
    assert isinstance(parsed, InboundMessage)
    assert parsed.hints.message_ids == (*(r.strip("<>") for r in refs), PARENT)


@pytest.mark.parametrize(
    ("in_reply_to", "references", "expected_irt", "expected_refs"),
    [
        (f"<{PARENT}>", [f"<{PARENT}>"], f"<{PARENT}>", f"<{PARENT}>"),
        ("a@x", ["<b@x>", "c@x", "b@x"], "<a@x>", "<b@x> <c@x> <a@x>"),
        (None, ["b@x"], None, "<b@x>"),
        (None, [], None, None),
    ],
)
def test_references_chain(
    in_reply_to: str | None,
    references: list[str],
    expected_irt: str | None,
    expected_refs: str | None,
) -> None:
    msg = reread(reply(in_reply_to=in_reply_to, references=references))
    assert msg["In-Reply-To"] == expected_irt
    assert msg["References"] == expected_refs


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Order late", "Re: Order late"),
        ("Re: Order late", "Re: Order late"),
        ("RE: Order late", "RE: Order late"),
        ("re[2]: Order late", "re[2]: Order late"),
        ("AW: Bestellung", "Re: AW: Bestellung"),
        ("Return policy", "Re: Return policy"),
        ("Broken\r\n subject\twith tabs", "Re: Broken subject with tabs"),
    ],
)
def test_subject_gets_one_re_prefix(subject: str, expected: str) -> None:
    assert reread(reply(subject=subject))["Subject"] == expected


def test_alternative_parts_with_generated_html() -> None:
    msg = reread(reply(text="Hi <Ana> & team,\nline two\n\n\nNext paragraph\n"))
    assert msg.get_content_type() == "multipart/alternative"
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert content(plain) == "Hi <Ana> & team,\nline two\n\n\nNext paragraph\n"
    assert content(html) == (
        "<!DOCTYPE html>\n<html><body>\n"
        "<p>Hi &lt;Ana&gt; &amp; team,<br>\nline two</p>\n"
        "<p>Next paragraph</p>\n"
        "</body></html>\n"
    )
    assert [p.get("MIME-Version") for p in msg.iter_parts()] == [None, None]


def test_given_html_is_used_as_is() -> None:
    html = reread(reply(html="<p>Hello <b>Ana</b></p>")).get_body(preferencelist=("html",))
    assert content(html) == "<p>Hello <b>Ana</b></p>\n"


def test_non_ascii_goes_out_as_7bit() -> None:
    raw = wire(reply(text="Viele Grüße – 49,90 €", from_name="Jörg Müller", subject="Rückfrage"))
    raw.decode("ascii")  # raises if a single 8-bit byte slipped through
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == "Re: Rückfrage"
    assert msg["From"].addresses[0].display_name == "Jörg Müller"
    assert content(msg.get_body(preferencelist=("plain",))) == "Viele Grüße – 49,90 €\n"


def test_auto_reply_headers() -> None:
    msg = reread(reply(auto_reply=True))
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Auto-Response-Suppress"] == "OOF, AutoReply"


def test_naive_date_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        compose_reply(
            from_addr="support@support.example",
            from_name=None,
            to="ana.lima@gmail.com",
            subject="x",
            text="x",
            html=None,
            message_id="m@support.example",
            in_reply_to=None,
            references=(),
            reply_to=None,
            date=datetime(2025, 11, 3, 10, 12),
        )


# --- read back by our own parser ---------------------------------------------


def test_reply_parsed_back_threads_under_the_parent() -> None:
    parsed = parse_email(wire(reply()))
    assert isinstance(parsed, InboundMessage)
    assert parsed.provider_message_id == OURS
    assert parsed.hints.message_ids == ("ticket-1042.msg-7@support.example", PARENT)
    assert parsed.hints.ticket_number == 1042
    assert parsed.text == "Hello Ana,\n\nyour parcel is on its way."
    assert parsed.sent_at == datetime(2025, 11, 3, 9, 12, tzinfo=UTC)


def test_our_auto_reply_is_ignored_when_it_comes_back() -> None:
    assert parse_email(wire(reply(auto_reply=True))) == Ignored("auto-submitted: auto-replied")


def test_our_own_message_coming_back_is_ignored() -> None:
    raw = wire(reply())
    assert parse_email(raw, our_domains=("support.example",)) == Ignored(
        "our own message came back"
    )
    assert isinstance(parse_email(raw, our_domains=("other.example",)), InboundMessage)


# --- ids and subjects --------------------------------------------------------


def test_new_message_ids_are_random_and_name_no_conversation() -> None:
    ids = {new_message_id("Support.Example") for _ in range(1000)}
    assert len(ids) == 1000
    for mid in ids:
        local, _, domain = mid.partition("@")
        assert domain == "support.example"
        assert re.fullmatch(r"tl\.[0-9a-f]{32}", local)  # 128 random bits


def test_a_new_message_id_comes_back_as_our_own() -> None:
    assert is_ours(new_message_id("support.example"), ["support.example"])
    assert not is_ours(new_message_id("support.example"), ["other.example"])


@pytest.mark.parametrize(
    "domain", ["", "support example", "a@support.example", "<support.example>"]
)
def test_new_message_id_refuses_a_bad_domain(domain: str) -> None:
    with pytest.raises(ValueError, match="not a domain"):
        new_message_id(domain)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: [#1042] Order never arrived", "order never arrived"),
        ("RE: Fwd: FW: AW: WG: SV: Antw: Order   never\tarrived", "order never arrived"),
        ("Order never arrived [#1042]", "order never arrived"),
        ("Re[2]: Re: Rechnung März", "rechnung märz"),
        ("Return of goods", "return of goods"),
        ("", ""),
    ],
)
def test_normalize_subject(subject: str, expected: str) -> None:
    assert normalize_subject(subject) == expected
