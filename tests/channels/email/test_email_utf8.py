"""Mail with raw 8-bit headers, end to end: smtplib → our aiosmtpd server → storage.

SMTPUTF8 clients put raw UTF-8 in From and Subject; old mailers put raw
windows-1252. Both must become a customer and a conversation, never a
quarantined receipt.
"""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
import sqlalchemy as sa
from tests.support.factories import SUPPORT, make_email_inbox, timeline

from threadline.storage.tables import conversations, customers, inbound_receipts, messages

pytestmark = pytest.mark.anyio

FIXTURES = Path(__file__).parent / "fixtures"


async def smtp_send(port: int, raw: bytes, *, mail_from: str, options: Sequence[str]) -> Any:
    def go() -> Any:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            return client.sendmail(mail_from, [SUPPORT], raw, mail_options=list(options))

    return await anyio.to_thread.run_sync(go)


async def one(c: Any, query: Any) -> Any:
    return await c.db.read(lambda conn: conn.execute(query).one())


@pytest.mark.parametrize(
    ("fixture", "mail_from", "options", "name", "subject"),
    [
        (
            "utf8_raw_headers",
            "chloe.dubois@exemple.fr",
            ["SMTPUTF8"],
            "Chloé Dubois",
            "Où est ma commande ? Déjà 10 jours 📦",
        ),
        (
            "latin1_raw_subject",
            "f.martin@vieux-fai.example",
            ["BODY=8BITMIME"],
            "Frédéric Martin",
            "Réclamation n° 5521 – facture à 49,90 € (“express”)",
        ),
    ],
    ids=["smtputf8", "latin1"],
)
async def test_8bit_headers_become_a_named_customer(  # type: ignore[no-untyped-def]
    container, smtp, fixture: str, mail_from: str, options: list[str], name: str, subject: str
) -> None:
    c = container
    await make_email_inbox(c)
    raw = (FIXTURES / f"{fixture}.eml").read_bytes().replace(b"\n", b"\r\n")
    assert await smtp_send(smtp, raw, mail_from=mail_from, options=options) == {}

    receipt = await one(c, sa.select(inbound_receipts))
    assert (receipt.status, receipt.error) == ("processed", None)
    conv = await one(c, sa.select(conversations))
    assert conv.subject == subject
    customer = await one(c, sa.select(customers).where(customers.c.id == conv.customer_id))
    assert customer.name == name
    msg = await one(c, sa.select(messages))
    assert msg.conversation_id == conv.id
    assert [e["kind"] for e in await timeline(c, conv.customer_id)].count("message") == 1
