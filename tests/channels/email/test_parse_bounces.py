"""parse_email's bounces: delivery reports and VERP addresses become status updates."""

from __future__ import annotations

import pytest
from tests.channels.email.support import load, mail

from threadline.channels.email.bounces import verp_token
from threadline.channels.email.parse import parse_email
from threadline.core.model import DeliveryStatus, Ignored, StatusUpdate


def test_postfix_bounce() -> None:
    assert parse_email(load("postfix_dsn"), our_domains=("support.example",)) == StatusUpdate(
        status=DeliveryStatus.FAILED,
        provider_message_ids=("ticket-1044.msg-2@support.example", "verp:m8812.Kx3"),
        error="5.1.1 550 5.1.1 <nobody@customer.example>: Recipient address rejected:"
        " User unknown in virtual mailbox table",
        recipients=("nobody@customer.example",),
    )


def test_exchange_bounce_counts_only_failed_recipients() -> None:
    assert parse_email(load("exchange_ndr")) == StatusUpdate(
        status=DeliveryStatus.FAILED,
        provider_message_ids=("ticket-1050.msg-1@support.example", "verp:m8820.Wv7"),
        error="5.1.10 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP"
        " address lookup",
        recipients=("jdoe@contoso.example",),
    )


def test_bounce_to_a_foreign_verp_address_has_no_token() -> None:
    result = parse_email(load("postfix_dsn"), our_domains=("elsewhere.example",))
    assert isinstance(result, StatusUpdate)
    assert result.provider_message_ids == ("ticket-1044.msg-2@support.example",)


@pytest.mark.parametrize(
    ("rcpt_tos", "our_domains", "expected"),
    [
        (["bounce+m8812.Kx3@support.example"], (), "m8812.Kx3"),
        (["support@support.example", "Bounce+AbC@support.example"], (), "AbC"),
        (["<bounce+m1@support.example>"], ("SUPPORT.example",), "m1"),
        (["bounce+m1@other.example"], ("support.example",), None),
        (["reply+m1@support.example"], (), None),
        (["bounce+@support.example", "bounce@support.example"], (), None),
        ([], (), None),
    ],
)
def test_verp_token(
    rcpt_tos: list[str], our_domains: tuple[str, ...], expected: str | None
) -> None:
    assert verp_token(rcpt_tos, our_domains=our_domains) == expected


def test_non_standard_bounce_to_the_verp_address() -> None:
    raw = mail(
        "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.old.example>",
        "Subject: failure notice",
        drop=("From", "Subject"),
    )
    assert parse_email(raw, rcpt_tos=["bounce+m77.Q@support.example"]) == StatusUpdate(
        status=DeliveryStatus.FAILED,
        provider_message_ids=("verp:m77.Q",),
        error="non-standard bounce: failure notice",
    )


def test_a_person_writing_to_the_verp_address_is_ignored() -> None:
    result = parse_email(mail(), rcpt_tos=["bounce+m77.Q@support.example"])
    assert result == Ignored("mail to the bounce address")
