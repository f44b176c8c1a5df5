"""POST /conversations/{id}/replies with files: the request's bounds, notes that keep
files without sending them, and files kept on disk (this module stores them there)."""

from __future__ import annotations

import base64
import email
import email.policy
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support.factories import (
    api_client,
    deliver_email,
    make_agent,
    make_email,
    make_email_inbox,
)

from threadline.bootstrap import Container
from threadline.core.tokens import sign_until
from threadline.settings import Settings
from threadline.storage.tables import attachments, conversations, jobs, messages

pytestmark = pytest.mark.anyio

PNG = b"\x89PNG\r\n\x1a\n" + b"\x07" * 300


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    settings.attachments_in_db = False
    settings.sandbox_outbox = tmp_path / "outbox"  # email "sent" as .eml files
    return settings


def upload(filename: str = "label.png", data: bytes = PNG, **extra: str) -> dict[str, str]:
    return {"filename": filename, "data_base64": base64.b64encode(data).decode(), **extra}


async def conversation(c: Container) -> tuple[int, str]:
    inbox_id = await make_email_inbox(c)
    await deliver_email(c, inbox_id, make_email()[0])
    _, token = await make_agent(c)
    conversation_id = await c.db.read(
        lambda conn: conn.execute(sa.select(conversations.c.id)).scalar_one()
    )
    return conversation_id, token


async def post(c: Container, conversation_id: int, token: str, body: Any) -> Any:
    async with api_client(c) as client:
        return await client.post(
            f"/api/v1/conversations/{conversation_id}/replies",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )


async def stored(c: Container) -> list[Any]:
    return await c.db.read(
        lambda conn: conn.execute(sa.select(attachments).order_by(attachments.c.id)).all()
    )


async def test_a_reply_stores_its_files_on_disk_and_the_sent_mail_carries_them(
    container: Container, settings: Settings
) -> None:
    c = container
    conversation_id, token = await conversation(c)
    r = await post(
        c, conversation_id, token, {"text": "Label attached.", "attachments": [upload()]}
    )
    assert r.status_code == 202, r.text
    [row] = await stored(c)
    # Sniffed from the bytes, though the caller named no type.
    assert (row.filename, row.content_type, row.size, row.data) == (
        "label.png",
        "image/png",
        len(PNG),
        None,
    )
    assert (
        Path(settings.data_dir) / "attachments" / row.sha256[:2] / row.sha256
    ).read_bytes() == PNG
    assert await c.runner.run_due() == 1
    # Sandbox mode: the mail lands in the outbox folder as the relay would get it.
    assert settings.sandbox_outbox is not None
    [eml] = sorted(settings.sandbox_outbox.glob("*.eml"))
    mail = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    [part] = mail.iter_attachments()  # type: ignore[attr-defined]
    assert (part.get_filename(), part.get_content()) == ("label.png", PNG)


async def test_a_note_keeps_its_files_sends_nothing_and_gives_no_public_link(
    container: Container,
) -> None:
    c = container
    conversation_id, token = await conversation(c)
    r = await post(
        c,
        conversation_id,
        token,
        {"text": "Customer's photo", "note": True, "attachments": [upload()]},
    )
    assert r.status_code == 202, r.text
    [row] = await stored(c)
    queued = await c.db.read(
        lambda conn: conn.execute(sa.select(jobs).where(jobs.c.kind == "deliver")).all()
    )
    assert queued == []  # nothing to deliver (the customer still waits: the SLA timers run)
    token_for_note = sign_until("media", row.id, 2**40, c.bus.cfg.secret_key)
    async with api_client(c) as client:
        assert (await client.get(f"/media/{token_for_note}")).status_code == 404


@pytest.mark.parametrize(
    ("attachments", "status"),
    [
        ([upload(data_base64="not base64!")], 400),
        ([upload() for _ in range(11)], 400),  # more files than any message takes
        ([upload(filename="")], 400),
        ([upload(data=b"")], 400),  # an empty file: min_length, before any decoding
        ([upload(content_type="x" * 201)], 400),
    ],
)
async def test_a_malformed_attachment_is_refused_and_nothing_is_stored(
    container: Container, attachments: list[dict[str, str]], status: int
) -> None:
    c = container
    conversation_id, token = await conversation(c)
    r = await post(c, conversation_id, token, {"text": "hi", "attachments": attachments})
    assert r.status_code == status, r.text
    assert await stored(c) == []
    outbound = await c.db.read(
        lambda conn: conn.execute(
            sa.select(messages).where(messages.c.direction != "inbound")
        ).all()
    )
    assert outbound == []


async def test_a_request_past_the_route_limit_is_refused_before_it_is_read(
    container: Container,
) -> None:
    c = container
    conversation_id, token = await conversation(c)
    big = upload(data=b"\x00" * (8 * 1024 * 1024))  # 8 MiB is ~10.7 MiB in base64
    r = await post(c, conversation_id, token, {"text": "hi", "attachments": [big]})
    assert r.status_code == 413
    assert await stored(c) == []
