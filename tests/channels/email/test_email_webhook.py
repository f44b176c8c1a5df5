"""The signed email webhook on a real uvicorn: the size cap comes from the
settings, the signature is checked on the streamed body before anything is
parsed or stored, and a signed mail at the cap is taken."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from tests.support.factories import make_email, make_email_inbox

from threadline.channels.email.signature import SPOOL_MEMORY_BYTES, SignedEmailBody, sign
from threadline.settings import Settings
from threadline.storage.tables import inbound_receipts

pytestmark = pytest.mark.anyio

CAP = 256 * 1024
SECRET = "hook-secret"


@pytest.fixture
def settings(database_url: str, tmp_path: Path, app_port: int) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        secret_key="test-secret",
        smtp_port=0,
        run_jobs=False,
        port=app_port,
        email_max_bytes=CAP,
    )


def _padded(size: int) -> bytes:
    raw, _ = make_email(body="see the log below")
    return raw + b"x" * (size - len(raw))


async def _receipts(container: Any) -> int:
    count: int = await container.db.read(
        lambda c: c.execute(sa.select(sa.func.count()).select_from(inbound_receipts)).scalar_one()
    )
    return count


async def _chunks(raw: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(raw), 16 * 1024):
        yield raw[start : start + 16 * 1024]


async def test_email_over_the_configured_cap_is_refused_with_413(container, served) -> None:  # type: ignore[no-untyped-def]
    inbox = await make_email_inbox(container)
    raw = _padded(CAP + 1)
    headers = {"X-Threadline-Signature": sign(SECRET, raw)}
    async with httpx.AsyncClient(base_url=served, timeout=30) as client:
        announced = await client.post(f"/webhooks/email/{inbox}", content=raw, headers=headers)
        # Chunked: no Content-Length to refuse early, so the count while streaming does.
        streamed = await client.post(
            f"/webhooks/email/{inbox}", content=_chunks(raw), headers=headers
        )
    assert announced.status_code == 413, announced.text
    assert streamed.status_code == 413, streamed.text
    assert await _receipts(container) == 0


async def test_signed_email_at_the_cap_is_stored(container, served) -> None:  # type: ignore[no-untyped-def]
    inbox = await make_email_inbox(container)
    raw = _padded(CAP)
    async with httpx.AsyncClient(base_url=served, timeout=30) as client:
        answer = await client.post(
            f"/webhooks/email/{inbox}",
            content=_chunks(raw),
            headers={"X-Threadline-Signature": sign(SECRET, raw)},
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "processed"


async def test_bad_signature_is_refused_before_anything_is_stored(container, served) -> None:  # type: ignore[no-untyped-def]
    inbox = await make_email_inbox(container)
    raw = _padded(CAP // 2)
    async with httpx.AsyncClient(base_url=served, timeout=30) as client:
        forged = await client.post(
            f"/webhooks/email/{inbox}",
            content=raw,
            headers={"X-Threadline-Signature": sign("guessed", raw)},
        )
        # Signed, then one byte changed in flight.
        tampered = await client.post(
            f"/webhooks/email/{inbox}",
            content=raw[:-1] + b"y",
            headers={"X-Threadline-Signature": sign(SECRET, raw)},
        )
        unsigned = await client.post(f"/webhooks/email/{inbox}", content=raw)
    assert [forged.status_code, tampered.status_code, unsigned.status_code] == [403, 403, 403]
    assert await _receipts(container) == 0


def test_a_large_body_is_spooled_to_disk_not_held_in_memory() -> None:
    raw = b"x" * (SPOOL_MEMORY_BYTES * 3)
    with SignedEmailBody(SECRET, len(raw)) as body:
        for start in range(0, len(raw), 64 * 1024):
            body.write(raw[start : start + 64 * 1024])
        assert body.is_signed(sign(SECRET, raw))
        assert body.spooled_to_disk
        assert body.read() == raw


def test_an_inbox_without_a_secret_accepts_no_signature() -> None:
    with SignedEmailBody("", 1024) as body:
        body.write(b"mail")
        assert not body.is_signed(sign("", b"mail"))
