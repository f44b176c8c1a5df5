"""A payload past PROCESS_BYTES is kept in the file store and its receipt names it:
the writer never carries its bytes. It still dedups a retry, stores another mail
that reuses its Message-ID, shows in the quarantine and replays from the file."""

from __future__ import annotations

import hashlib
import io
import random
import stat
from pathlib import Path
from typing import Any

import httpx
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
from threadline.bus import PROCESS_BYTES
from threadline.channels.email.signature import sign
from threadline.settings import Settings
from threadline.storage.files import file_path, put_file, put_stream
from threadline.storage.tables import inbound_receipts, messages

pytestmark = pytest.mark.anyio


def big_mail(n: int, message_id: str = "<big@example.com>", *, sender: bool = True) -> bytes:
    # Random words: a text body of 1.5 MB that quote stripping and FTS take as text.
    words = random.Random(n).choices(["parcel", "scan", "late", "box", "order"], k=300_000)
    raw, _ = make_email(body=" ".join(words), message_id=message_id)
    assert len(raw) > PROCESS_BYTES
    return raw if sender else raw.replace(b"From: Ana Souza <ana@example.com>\n", b"")


async def receipt_rows(c: Container) -> list[Any]:
    q = sa.select(
        inbound_receipts.c.id,
        inbound_receipts.c.status,
        inbound_receipts.c.payload,
        inbound_receipts.c.payload_file,
    ).order_by(inbound_receipts.c.id)
    return list(await c.db.read(lambda conn: conn.execute(q).all()))


def named_in_store(c: Container, row: Any, raw: bytes) -> Path:
    """The receipt names ``raw`` by its hash and holds no bytes; the store has them."""
    digest = hashlib.sha256(raw).hexdigest()
    assert (bytes(row.payload), row.payload_file) == (b"", digest)
    root = c.bus.cfg.attachment_dir
    assert root is not None
    assert file_path(root, digest).read_bytes() == raw
    return root


async def test_a_large_mail_is_kept_in_the_file_store_and_its_receipt_names_it(
    container: Container,
) -> None:
    c = container
    inbox = await make_email_inbox(c)
    raw = big_mail(1)
    outcome = await deliver_email(c, inbox, raw)
    assert outcome.status == "processed", outcome
    [row] = await receipt_rows(c)
    named_in_store(c, row, raw)


async def test_a_large_mail_retried_is_a_duplicate_and_another_with_its_message_id_is_stored(
    container: Container,
) -> None:
    c = container
    inbox = await make_email_inbox(c)
    first = await deliver_email(c, inbox, big_mail(1))
    again = await deliver_email(c, inbox, big_mail(1))
    other = await deliver_email(c, inbox, big_mail(2))
    assert (first.status, again.status, other.status) == ("processed", "duplicate", "processed")
    assert again.receipt_id == first.receipt_id
    count = await c.db.read(lambda conn: conn.execute(sa.select(sa.func.count(messages.c.id))))
    assert count.scalar_one() == 2


async def test_a_quarantined_large_mail_shows_its_payload_and_replays_from_the_file(
    container: Container,
) -> None:
    c = container
    inbox = await make_email_inbox(c)
    _, token = await make_agent(c)
    held = await deliver_email(c, inbox, big_mail(3, "<held@example.com>", sender=False))
    assert held.status == "quarantined", held
    [row] = await receipt_rows(c)
    assert row.payload_file is not None
    h = {"Authorization": f"Bearer {token}"}
    async with api_client(c) as client:
        detail = await client.get(f"/api/v1/receipts/{held.receipt_id}", headers=h)
        assert detail.status_code == 200, detail.text
        assert "Message-ID: <held@example.com>" in detail.json()["payload"]
        # Today's code still cannot use it: the same file is parsed again.
        still = await client.post(f"/api/v1/receipts/{held.receipt_id}/replay", json={}, headers=h)
        assert still.status_code == 422, still.text
    # An operator's correction replaces the payload; the original file stays named.
    fixed = await c.bus.replay(held.receipt_id, big_mail(3, "<held@example.com>"))
    assert fixed.status == "processed"
    [after] = await receipt_rows(c)
    assert after.payload_file is None
    assert bytes(after.payload).startswith(b"From:")
    context = await c.db.read(
        lambda conn: conn.execute(sa.select(inbound_receipts.c.context)).scalar_one()
    )
    assert context["original_payload_file"] == row.payload_file


async def test_a_large_mail_posted_to_the_webhook_goes_from_its_spool_to_the_store(
    container: Container, served: str
) -> None:
    c = container
    inbox = await make_email_inbox(c)
    raw = big_mail(4, "<hooked@example.com>")
    headers = {"X-Threadline-Signature": sign("hook-secret", raw)}
    async with httpx.AsyncClient(base_url=served, timeout=60) as client:
        first = await client.post(f"/webhooks/email/{inbox}", content=raw, headers=headers)
        retry = await client.post(f"/webhooks/email/{inbox}", content=raw, headers=headers)
    assert first.status_code == retry.status_code == 200, (first.text, retry.text)
    assert (first.json()["status"], retry.json()["status"]) == ("processed", "duplicate")
    [row] = await receipt_rows(c)
    root = named_in_store(c, row, raw)
    assert [p.name for p in root.iterdir() if p.name.startswith(".incoming")] == []


def test_a_stream_is_stored_under_the_hash_put_file_gives_it(tmp_path: Path) -> None:
    data = random.Random(5).randbytes(3 * 1024 * 1024 + 7)
    digest = put_stream(tmp_path / "a", io.BytesIO(data), chunk=64 * 1024)
    assert digest == put_file(tmp_path / "b", data) == hashlib.sha256(data).hexdigest()
    stored = file_path(tmp_path / "a", digest)
    assert stored.read_bytes() == data
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    again = put_stream(tmp_path / "a", io.BytesIO(data))  # already there: kept once
    assert again == digest
    assert sorted(p.name for p in (tmp_path / "a").rglob("*") if p.is_file()) == [digest]


@pytest.fixture
def in_db(settings: Settings) -> Settings:
    settings.attachments_in_db = True
    return settings


@pytest.mark.usefixtures("in_db")
async def test_a_large_mail_stays_in_its_row_when_files_are_kept_in_the_database(
    container: Container,
) -> None:
    c = container
    inbox = await make_email_inbox(c)
    raw = big_mail(1)
    assert (await deliver_email(c, inbox, raw)).status == "processed"
    assert (await deliver_email(c, inbox, raw)).status == "duplicate"
    [row] = await receipt_rows(c)
    assert (bytes(row.payload), row.payload_file) == (raw, None)
