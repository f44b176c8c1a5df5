"""Replies with files, sent for real on every channel: email through an SMTP relay,
Twilio, Meta and Telegram through the sandbox APIs over HTTP, and the API
channel's webhook. Twilio and Meta fetch our signed /media/ links, so those
links must serve the exact bytes, and nothing for a tampered or stale token."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from tests.channels.meta.support import (
    ACCESS_TOKEN,
    PAGE_ID,
    PHONE_NUMBER_ID,
    PSID,
    WA_ID,
    fixture,
    make_meta_inbox,
    post_meta,
)
from tests.channels.telegram.support import ADA, BOT_TOKEN, make_telegram_inbox, post_update
from tests.channels.telegram.support import fixture as telegram_update
from tests.channels.twilio_sms.support import (
    ACCOUNT_SID,
    ANA_PHONE,
    AUTH_TOKEN,
    OUR_NUMBER,
    form,
    make_sms_inbox,
    post_form,
)
from tests.support.factories import (
    api_client,
    deliver_api,
    deliver_email,
    make_agent,
    make_api_inbox,
    make_email,
    make_email_inbox,
)
from tests.support.servers import Relay, free_port, read_body, respond, serving

from threadline.bootstrap import Container
from threadline.channels.email.adapter import SmtpRelay, SmtpSender
from threadline.clock import FakeClock
from threadline.storage.tables import attachments, conversations, messages, sandbox_outbox

pytestmark = pytest.mark.anyio

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n"


@pytest.fixture
def senders(relay: tuple[Relay, int]) -> dict[str, Any]:
    return {"email": SmtpSender(SmtpRelay(host="127.0.0.1", port=relay[1], starttls=False))}


def upload(filename: str, data: bytes, content_type: str = "") -> dict[str, str]:
    return {
        "filename": filename,
        "content_type": content_type,
        "data_base64": base64.b64encode(data).decode(),
    }


async def only_conversation(c: Container) -> int:
    return int(
        await c.db.read(lambda conn: conn.execute(sa.select(conversations.c.id)).scalar_one())
    )


async def reply(
    c: Container, served: str, text: str, files: list[dict[str, str]]
) -> httpx.Response:
    _, token = await make_agent(c)
    conversation_id = await only_conversation(c)
    async with httpx.AsyncClient(base_url=served) as client:
        return await client.post(
            f"/api/v1/conversations/{conversation_id}/replies",
            json={"text": text, "attachments": files},
            headers={"Authorization": f"Bearer {token}"},
        )


async def outbox(c: Container) -> list[Any]:
    return await c.db.read(
        lambda conn: conn.execute(sa.select(sandbox_outbox).order_by(sandbox_outbox.c.id)).all()
    )


async def fetch(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.get(url)


async def sent_status(c: Container) -> str:
    return str(
        await c.db.read(
            lambda conn: conn.execute(
                sa.select(messages.c.status).where(messages.c.direction == "outbound")
            ).scalar_one()
        )
    )


async def test_email_reply_carries_its_files_as_mime_parts(
    container: Container, served: str, relay: tuple[Relay, int]
) -> None:
    c, (mail, _) = container, relay
    inbox_id = await make_email_inbox(c)
    await deliver_email(c, inbox_id, make_email()[0])
    r = await reply(
        c,
        served,
        "Here is the label and the invoice.",
        [
            upload("label.png", PNG, "image/png"),
            upload("Rechnung März.pdf", PDF, "application/pdf"),
        ],
    )
    assert r.status_code == 202, r.text
    assert await c.runner.run_due() == 1

    msg = mail.parsed()
    assert msg.get_content_type() == "multipart/mixed"
    body = msg.get_body(("plain",))
    assert body is not None
    assert "label and the invoice" in body.get_content()
    files = [
        (p.get_filename(), p.get_content_type(), p.get_content()) for p in msg.iter_attachments()
    ]
    assert files == [
        ("label.png", "image/png", PNG),
        ("Rechnung März.pdf", "application/pdf", PDF),
    ]
    assert await sent_status(c) == "sent"


async def test_sms_reply_sends_a_signed_media_url_that_serves_the_exact_bytes(
    container: Container, served: str, clock: FakeClock
) -> None:
    c = container
    await make_sms_inbox(c)
    async with api_client(c) as client:
        await post_form(client, "/webhooks/twilio/sms", form("inbound_sms"))
    r = await reply(c, served, "Your label:", [upload("label.png", PNG, "image/png")])
    assert r.status_code == 202, r.text
    assert await c.runner.run_due() == 1

    [sent] = await outbox(c)
    assert sent.recipient == ANA_PHONE
    media_url = sent.request["params"]["MediaUrl"]
    assert media_url.startswith(f"{served}/media/")
    got = await fetch(media_url)
    assert got.status_code == 200
    assert got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers["content-disposition"].startswith("attachment")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in got.headers  # outside the session's reach

    attachment_id, expires, mac = media_url.rsplit("/", 1)[1].split(".")
    forged = [
        f"{int(attachment_id) + 1}.{expires}.{mac}",  # another file
        f"{attachment_id}.{int(expires) + 86400}.{mac}",  # a longer life
        f"{attachment_id}.{expires}.{'0' * 32}",
        "not-a-token",
    ]
    for token in forged:
        assert (await fetch(f"{served}/media/{token}")).status_code == 404, token
    clock.advance(timedelta(hours=24, seconds=1))
    assert (await fetch(media_url)).status_code == 404


async def test_whatsapp_reply_sends_the_text_then_each_file_by_link(
    container: Container, served: str
) -> None:
    c = container
    await make_meta_inbox(c, "whatsapp")
    async with api_client(c) as client:
        assert (await post_meta(client, fixture("whatsapp_text"))).status_code == 200
    r = await reply(
        c,
        served,
        "Photo and manual attached.",
        [upload("photo.png", PNG, "image/png"), upload("manual.pdf", PDF, "application/pdf")],
    )
    assert r.status_code == 202, r.text
    assert await c.runner.run_due() == 1

    text, image, document = (row.request for row in await outbox(c))
    assert text["text"]["body"] == "Photo and manual attached."
    assert (image["to"], image["type"]) == (WA_ID, "image")
    assert (document["type"], document["document"]["filename"]) == ("document", "manual.pdf")
    assert (await fetch(image["image"]["link"])).content == PNG
    got = await fetch(document["document"]["link"])
    assert (got.content, got.headers["content-type"]) == (PDF, "application/pdf")
    assert await sent_status(c) == "sent"


async def test_messenger_reply_sends_an_attachment_payload_url(
    container: Container, served: str
) -> None:
    c = container
    await make_meta_inbox(c, "messenger")
    async with api_client(c) as client:
        assert (await post_meta(client, fixture("messenger_text"))).status_code == 200
    r = await reply(c, served, "The manual:", [upload("manual.pdf", PDF, "application/pdf")])
    assert r.status_code == 202, r.text
    assert await c.runner.run_due() == 1

    _, file_message = (row.request for row in await outbox(c))
    assert file_message["recipient"] == {"id": PSID}
    attachment = file_message["message"]["attachment"]
    assert attachment["type"] == "file"
    assert (await fetch(attachment["payload"]["url"])).content == PDF


async def test_telegram_reply_uploads_photos_and_documents_as_multipart(
    container: Container, served: str
) -> None:
    c = container
    inbox_id = await make_telegram_inbox(c)
    async with api_client(c) as client:
        assert (
            await post_update(client, inbox_id, telegram_update("private_text"))
        ).status_code == 200
    r = await reply(
        c,
        served,
        "Both files:",
        [upload("photo.png", PNG, "image/png"), upload("manual.pdf", PDF, "application/pdf")],
    )
    assert r.status_code == 202, r.text
    assert await c.runner.run_due() == 1

    text, photo, document = await outbox(c)
    assert text.text == "Both files:"
    assert photo.request["chat_id"] == int(ADA)
    assert photo.request["photo"] == {
        "filename": "photo.png",
        "content_type": "image/png",
        "size": len(PNG),
        "sha256": hashlib.sha256(PNG).hexdigest(),
    }
    assert document.request["document"]["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert document.request["document"]["filename"] == "manual.pdf"
    assert await sent_status(c) == "sent"


async def test_api_webhook_push_describes_each_file_with_a_working_link(
    container: Container, served: str
) -> None:
    c = container
    pushed: list[Any] = []

    async def receiver(scope: Any, receive: Any, send: Any) -> None:
        pushed.append(httpx.Response(200, content=await read_body(receive)).json())
        await respond(send, 200, {"ok": True})

    async with serving(receiver, free_port()) as hook:
        inbox_id = await make_api_inbox(c, webhook_url=f"{hook}/threadline", webhook_secret="s")
        await deliver_api(c, inbox_id, {"customer": {"external_id": "u-1"}, "text": "hello"})
        r = await reply(
            c, served, "See attached.", [upload("notes.txt", b"line one\n", "text/plain")]
        )
        assert r.status_code == 202, r.text
        assert await c.runner.run_due() == 1

    [body] = pushed
    [described] = body["attachments"]
    assert {k: described[k] for k in ("filename", "content_type", "size")} == {
        "filename": "notes.txt",
        "content_type": "text/plain",
        "size": 9,
    }
    assert (await fetch(described["url"])).content == b"line one\n"


async def count_rows(c: Container) -> tuple[int, int]:
    def read(conn: Any) -> tuple[int, int]:
        return (
            conn.execute(sa.select(sa.func.count()).select_from(messages)).scalar_one(),
            conn.execute(sa.select(sa.func.count()).select_from(attachments)).scalar_one(),
        )

    return await c.db.read(read)


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ([upload("manual.pdf", PDF, "application/pdf")], "does not accept application/pdf"),
        # It says PNG; the bytes say otherwise, and SMS takes images only.
        ([upload("x.png", b"<script>alert(1)</script>", "image/png")], "application/octet-stream"),
        ([upload("big.png", PNG + bytes(5 * 1024 * 1024), "image/png")], "up to 5 MB"),
    ],
)
async def test_a_file_the_channel_cannot_take_is_refused_and_nothing_is_stored(
    container: Container, served: str, files: list[dict[str, str]], reason: str
) -> None:
    c = container
    await make_sms_inbox(c)
    async with api_client(c) as client:
        await post_form(client, "/webhooks/twilio/sms", form("inbound_sms"))
    before = await count_rows(c)
    r = await reply(c, served, "Here you go", files)
    assert r.status_code == 422, r.text
    assert reason in r.json()["detail"]
    assert await count_rows(c) == before
    assert await c.runner.run_due() == 0


async def test_the_sandbox_providers_refuse_files_the_real_apis_refuse(
    container: Container, served: str
) -> None:
    c = container
    await make_meta_inbox(c, "whatsapp")
    await make_meta_inbox(c, "messenger")
    await make_sms_inbox(c)
    await make_telegram_inbox(c)
    bearer = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
    async with httpx.AsyncClient(base_url=served) as http:
        no_link = await http.post(
            f"/sandbox/meta/v26.0/{PHONE_NUMBER_ID}/messages",
            json={"messaging_product": "whatsapp", "to": WA_ID, "type": "image", "image": {}},
            headers=bearer,
        )
        assert no_link.status_code == 400
        assert "either id or a valid link" in no_link.json()["error"]["message"]
        bad_url = await http.post(
            f"/sandbox/meta/v25.0/{PAGE_ID}/messages",
            json={
                "recipient": {"id": PSID},
                "message": {"attachment": {"type": "file", "payload": {"url": "file:///etc"}}},
            },
            headers=bearer,
        )
        assert bad_url.status_code == 400
        eleven = await http.post(
            f"/sandbox/twilio/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
            data={
                "To": ANA_PHONE,
                "From": OUR_NUMBER,
                "MediaUrl": [f"https://x.test/{i}.png" for i in range(11)],
            },
            auth=(ACCOUNT_SID, AUTH_TOKEN),
        )
        assert (eleven.status_code, eleven.json()["code"]) == (400, 21623)
        no_file = await http.post(
            f"/sandbox/telegram/bot{BOT_TOKEN}/sendDocument",
            data={"chat_id": ADA},
            files={"other": ("x.txt", b"x", "text/plain")},
        )
        assert no_file.status_code == 400
        assert no_file.json()["description"] == "Bad Request: there is no document in the request"
    assert await outbox(c) == []
