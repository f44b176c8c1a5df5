"""parse_email's text: the newest reply without quotes and signature, the full
text with them, every charset a client sends, and HTML made safe and readable."""

from __future__ import annotations

import pytest
from tests.channels.email.support import html_part, inbound, load, mail

from threadline.channels.email.body import html_to_text, latest_reply, sanitize_html
from threadline.core.model import ThreadHints

# --- the newest reply, without quotes and signature --------------------------


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        (
            "gmail_reply",
            'Hi,\n\nthe tracking page still says "label created". Could you ask the courier\n'
            "what happened? Order number is 88123.\n\nAna",
        ),
        (
            "gmail_de_reply",
            "Hallo Sam,\n\ndanke, das Paket ist heute angekommen. Die Rechnung fehlt aber noch"
            " – könnt ihr sie mir schicken?",
        ),
        ("iphone_reply", "Still nothing arrived, can you check again?"),
        (
            "outlook_reply_cp1252",
            "Hello,\n\nthe invoice shows 49,90 € but I paid 39,90 € – can you correct it?\n"
            "It’s for order 77812 (“express” shipping).",
        ),
        ("forwarded", "Can you explain this? I got it from the courier this morning."),
        (
            "latin1_qp",
            "Guten Tag,\n\nich möchte die Jacke (Größe M) zurücksenden. Muss ich das"
            " Rücksendeetikett selbst ausdrucken?",
        ),
        ("attachments", "Hallo,\n\nanbei die Rechnung vom März."),
        (
            "html_only_complaint",
            "## Delivery complaint for PO-55120\n\nDear Threadline team,\n\n"
            "the following items of purchase order **PO-55120** arrived damaged:\n\n"
            '* 3 × Desk lamp "Halo"\n* 1 × Floor lamp "Arc" – the shade is cracked\n\n'
            "Photos are in our [claims portal](https://portal.nordwind-retail.example/claims/8812).",
        ),
    ],
)
def test_text_is_the_newest_reply_only(fixture: str, expected: str) -> None:
    assert inbound(load(fixture)).text == expected


def test_full_text_keeps_the_quoted_history() -> None:
    msg = inbound(load("gmail_reply"))
    assert msg.full_text is not None
    assert msg.full_text.startswith("Hi,\n\nthe tracking page")
    assert "reply+Yn7kQ2xv.9Zs_abc@support.example> wrote:\n\n> Hello Ana," in msg.full_text
    assert msg.full_text.endswith("> Best regards,\n> Sam from Threadline\n>")


def test_forwarded_mail_keeps_the_forwarded_part_in_full_text() -> None:
    msg = inbound(load("forwarded"))
    assert msg.full_text is not None
    assert "your parcel 00340434 from Threadline Shop is delayed by 2 days." in msg.full_text
    assert msg.hints == ThreadHints(
        message_ids=("20251104080112.3F2A1C0D@mailer.courier.example",),
        subject="Fwd: Your parcel 00340434 is delayed",
    )


def test_text_falls_back_to_full_text_when_stripping_leaves_nothing() -> None:
    body = (
        b"---------- Forwarded message ---------\r\n"
        b"From: Parcel Courier <noreply@courier.example>\r\n"
        b"Date: Tue, 4 Nov 2025 at 08:01\r\n"
        b"Subject: Your parcel is delayed\r\n\r\n"
        b"Dear customer, your parcel is delayed.\r\n"
    )
    msg = inbound(mail(body=body))
    assert msg.text == msg.full_text
    assert msg.text.endswith("Dear customer, your parcel is delayed.")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi,\nit works now.\n\nThanks,\nPeter", "Hi,\nit works now."),
        ("Hi,\nit works now.\n\nBest regards, Dr. Peter Müller\nAcme", "Hi,\nit works now."),
        ("Hi,\nit works now.\n\n-- \nPeter\nAcme GmbH", "Hi,\nit works now."),
        # The library would cut at "Thanks," and lose the question that follows.
        (
            "Hi,\nThanks, that fixed it! But the export still fails.\nCould you look again?",
            "Hi,\nThanks, that fixed it! But the export still fails.\nCould you look again?",
        ),
        ("I need:\n- 2 lamps\n- 1 cable\n\nThanks,\nAna", "I need:\n- 2 lamps\n- 1 cable"),
        ("", ""),
    ],
)
def test_latest_reply_strips_only_plausible_signatures(text: str, expected: str) -> None:
    assert latest_reply(text) == expected


# --- charsets ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "cte", "body", "expected"),
    [
        ("text/plain; charset=iso-8859-1", "quoted-printable", b"Gr=FC=DFe", "Grüße"),
        # Outlook labels windows-1252 text as ISO-8859-1: € is 0x80 there.
        ("text/plain; charset=iso-8859-1", "8bit", b"49,90 \x80", "49,90 €"),
        (
            "text/plain; charset=windows-1252",
            "8bit",
            b"\x93quoted\x94 \x96 it\x92s",
            "“quoted” – it’s",
        ),
        ("text/plain; charset=utf-8", "quoted-printable", b"K=C3=B6ln =E2=82=AC", "Köln €"),
        ("text/plain; charset=utf-8", "base64", b"S8O2bG4g4oKs\r\n", "Köln €"),
        ("text/plain", "8bit", "Köln".encode(), "Köln"),
        ("text/plain; charset=us-ascii", "8bit", b"K\xf6ln", "Köln"),
        ("text/plain; charset=x-klingon", "8bit", "Köln".encode(), "Köln"),
        ("text/plain; charset=x-klingon", "8bit", b"K\xf6ln", "K\ufffdln"),
        ('text/plain; charset="UTF-8"', "8bit", b"\xef\xbb\xbfHello", "Hello"),
    ],
)
def test_body_charsets(content_type: str, cte: str, body: bytes, expected: str) -> None:
    assert inbound(mail(body=body, content_type=content_type, cte=cte)).text == expected


def test_windows_1252_outlook_reply_keeps_umlauts_in_full_text() -> None:
    full = inbound(load("outlook_reply_cp1252")).full_text
    assert full is not None
    assert "Head of Purchasing | Acme GmbH\nMünchen" in full
    assert "we’ve checked your invoice" in full


# --- HTML --------------------------------------------------------------------


def test_html_only_mail() -> None:
    msg = inbound(load("html_only_complaint"))
    assert msg.full_text is not None
    assert msg.full_text.endswith(
        "(https://portal.nordwind-retail.example/claims/8812).\n\n"
        "Kind regards\nNordwind Retail Purchasing"
    )
    assert msg.html is not None
    assert "<h2>Delivery complaint for PO-55120</h2>" in msg.html
    assert 'rel="noopener noreferrer"' in msg.html
    for unsafe in ("<script", "track(", "onclick", "<style", "font-family", "<title"):
        assert unsafe not in msg.html


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        (
            "gmail_reply",
            'Hi,\n\nthe tracking page still says "label created". Could you ask the courier'
            " what happened? Order number is 88123.\n\nAna",
        ),
        ("iphone_reply", "Still nothing arrived, can you check again?\n\nSent from my iPhone"),
        (
            "outlook_reply_cp1252",
            "Hello,\n\nthe invoice shows 49,90 € but I paid 39,90 € – can you correct it?\n"
            "It’s for order 77812 (“express” shipping).\n\nThanks,\nPeter Schmidt\n"
            "Head of Purchasing | Acme GmbH\nMünchen",
        ),
        ("forwarded", "Can you explain this? I got it from the courier this morning."),
    ],
)
def test_html_to_text_cuts_quoted_history(fixture: str, expected: str) -> None:
    assert html_to_text(html_part(fixture)) == expected


def test_html_to_text_keeps_table_cells_apart() -> None:
    html = "<table><tr><th>Item</th><th>Qty</th></tr><tr><td>Lamp</td><td>3</td></tr></table>"
    assert html_to_text(html) == "Item Qty\nLamp 3"


def test_html_mail_without_plain_part_strips_quotes_but_keeps_them_in_full_text() -> None:
    html = (
        "<div>Sounds good, thanks!</div><div class='gmail_quote'><div class='gmail_attr'>"
        "On Mon, Sam wrote:</div><blockquote class='gmail_quote'>Shall we call?</blockquote></div>"
    )
    msg = inbound(mail(body=html.encode(), content_type="text/html; charset=utf-8"))
    assert msg.text == "Sounds good, thanks!"
    assert msg.full_text == "Sounds good, thanks!\n\nOn Mon, Sam wrote:\n\n> Shall we call?"


def test_sanitize_keeps_cid_images_and_drops_active_content() -> None:
    dirty = (
        '<p onclick="x()">Hi<img src="cid:logo@x" onerror="x()"><a href="javascript:x()">a</a></p>'
    )
    assert (
        sanitize_html(dirty) == '<p>Hi<img src="cid:logo@x"><a rel="noopener noreferrer">a</a></p>'
    )
