"""parse_email's loop prevention: automatic mail is ignored, never answered."""

from __future__ import annotations

import pytest
from tests.channels.email.support import load, mail

from threadline.channels.email.parse import parse_email
from threadline.core.model import Ignored, InboundMessage


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("auto_reply_vacation", "auto-submitted: auto-replied"),
        ("exchange_oof", "auto-response-suppress: all"),
        ("delayed_dsn", "delivery report: delayed"),
    ],
)
def test_automatic_fixtures_are_ignored(fixture: str, reason: str) -> None:
    assert parse_email(load(fixture)) == Ignored(reason)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Auto-Submitted: auto-generated", "auto-submitted: auto-generated"),
        ("Auto-Submitted: Auto-Replied; owner-email=ana@x.example", "auto-submitted: auto-replied"),
        ("Precedence: bulk", "precedence: bulk"),
        ("Precedence: junk", "precedence: junk"),
        ("Precedence: list", "precedence: list"),
        ("List-Id: Shop news <news.shop.example>", "mailing list"),
        ("List-Unsubscribe: <mailto:leave@shop.example>", "mailing list"),
        ("Return-Path: <>", "null sender"),
        ("X-Auto-Response-Suppress: OOF", "auto-response-suppress: oof"),
        ("X-Auto-Response-Suppress: DR, OOF, AutoReply", "auto-response-suppress: oof"),
    ],
)
def test_automatic_mail_is_ignored(header: str, reason: str) -> None:
    assert parse_email(mail(header)) == Ignored(reason)


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: no",
        "Precedence: first-class",
        "X-Auto-Response-Suppress: DR, RN, NRN",
        "X-Auto-Response-Suppress: AutoReply",
        "Return-Path: <ana.lima@gmail.com>",
    ],
)
def test_ordinary_mail_with_harmless_markers_is_kept(header: str) -> None:
    assert isinstance(parse_email(mail(header)), InboundMessage)


def test_null_envelope_sender_is_ignored() -> None:
    assert parse_email(mail(), mail_from="") == Ignored("null sender")
    assert isinstance(parse_email(mail(), mail_from="ana.lima@gmail.com"), InboundMessage)
