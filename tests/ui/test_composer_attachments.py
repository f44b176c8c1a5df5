"""The composer sends files: a multipart form, as a browser posts it with or
without JavaScript, that arrives at the customer by email."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from tests.support.factories import (
    api_client,
    deliver_email,
    form_token,
    make_email,
    make_email_inbox,
)
from tests.support.servers import Relay
from tests.support.ui import make_user, sign_in

from threadline.bootstrap import Container
from threadline.channels.email.adapter import SmtpRelay, SmtpSender
from threadline.storage.tables import attachments, conversations

pytestmark = pytest.mark.anyio

PDF = b"%PDF-1.7\n" + b"0" * 2000 + b"\n%%EOF\n"


@pytest.fixture
def senders(relay: tuple[Relay, int]) -> dict[str, Any]:
    return {"email": SmtpSender(SmtpRelay(host="127.0.0.1", port=relay[1], starttls=False))}


async def desk(c: Container) -> int:
    inbox_id = await make_email_inbox(c)
    await deliver_email(c, inbox_id, make_email()[0])
    await make_user(c, "sam@acme.test", role="agent")
    return int(
        await c.db.read(lambda conn: conn.execute(sa.select(conversations.c.id)).scalar_one())
    )


async def test_the_composer_offers_a_file_input_and_each_channels_limits(
    container: Container,
) -> None:
    c = container
    conversation_id = await desk(c)
    async with api_client(c) as client:
        assert (await sign_in(client, "sam@acme.test")).status_code in (302, 303)
        page = (await client.get(f"/conversations/{conversation_id}")).text
    assert 'enctype="multipart/form-data"' in page
    assert 'hx-encoding="multipart/form-data"' in page
    assert '<input id="reply-files" type="file" name="files" multiple>' in page
    assert f'data-max-attachment="{25 * 1024 * 1024}"' in page  # email's


async def test_a_file_uploaded_in_the_composer_arrives_by_email(
    container: Container, relay: tuple[Relay, int]
) -> None:
    c, (mail, _) = container, relay
    conversation_id = await desk(c)
    async with api_client(c) as client:
        await sign_in(client, "sam@acme.test")
        token = await form_token(client, f"/conversations/{conversation_id}")
        r = await client.post(
            f"/ui/conversations/{conversation_id}/reply",
            data={"_csrf_token": token, "mode": "reply", "text": "The invoice, as promised."},
            # The browser's word for the type is not taken: the bytes say PDF.
            files=[("files", ("invoice.pdf", PDF, "application/x-unknown"))],
            follow_redirects=False,
        )
    assert r.status_code in (302, 303), r.text
    assert r.headers["location"] == f"/conversations/{conversation_id}"
    assert await c.runner.run_due() == 1
    [part] = mail.parsed().iter_attachments()
    assert (part.get_filename(), part.get_content_type(), part.get_content()) == (
        "invoice.pdf",
        "application/pdf",
        PDF,
    )


async def test_the_composer_refuses_too_many_files_and_keeps_the_draft(
    container: Container, relay: tuple[Relay, int]
) -> None:
    c, (mail, _) = container, relay
    conversation_id = await desk(c)
    async with api_client(c) as client:
        await sign_in(client, "sam@acme.test")
        token = await form_token(client, f"/conversations/{conversation_id}")
        r = await client.post(
            f"/ui/conversations/{conversation_id}/reply",
            data={"_csrf_token": token, "mode": "reply", "text": "Eleven files"},
            files=[("files", (f"f{i}.pdf", PDF, "application/pdf")) for i in range(11)],
            headers={"HX-Request": "true"},
        )
    assert r.status_code == 422
    assert "at most 10 attachments" in r.text
    assert "Eleven files" in r.text
    assert await c.db.read(lambda conn: conn.execute(sa.select(attachments)).all()) == []
    assert await c.runner.run_due() == 0
    assert mail.received == []


async def test_an_empty_file_input_sends_a_plain_reply(
    container: Container, relay: tuple[Relay, int]
) -> None:
    c, (mail, _) = container, relay
    conversation_id = await desk(c)
    async with api_client(c) as client:
        await sign_in(client, "sam@acme.test")
        token = await form_token(client, f"/conversations/{conversation_id}")
        # What a browser posts when no file was picked: a part with no filename.
        r = await client.post(
            f"/ui/conversations/{conversation_id}/reply",
            data={"_csrf_token": token, "mode": "reply", "text": "Just text"},
            files=[("files", ("", b"", "application/octet-stream"))],
            headers={"HX-Request": "true"},
        )
    assert r.status_code == 200, r.text
    assert "Sent" in r.text
    assert await c.runner.run_due() == 1
    assert list(mail.parsed().iter_attachments()) == []
