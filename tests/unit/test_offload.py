"""Large payloads are parsed in a process of their own, at a low priority."""

from __future__ import annotations

import hashlib
import os
import random
import tempfile
from email.message import EmailMessage
from pathlib import Path

import pytest
from tests.support.parsers import DyingParser, PidParser

from threadline.channels.email.adapter import EmailParser
from threadline.core.model import Ignored, InboundMessage, PayloadError, StoredFile
from threadline.offload import ProcessParser
from threadline.ports import Inbox
from threadline.storage.files import file_path

INBOX = Inbox(1, "email", "Support", "support@acme.test", {})


@pytest.mark.anyio
async def test_a_large_payload_is_parsed_in_another_process_below_our_priority() -> None:
    heavy = ProcessParser()
    try:
        result = await heavy.parse(PidParser(), INBOX, b"x" * 2_000_000, {})
    finally:
        heavy.close()
    assert isinstance(result, Ignored)
    _, pid, _, nice, _, size, _ = result.reason.split()
    assert int(pid) != os.getpid()
    assert int(nice) > os.nice(0)
    assert int(size) == 2_000_000


@pytest.mark.anyio
async def test_a_parse_that_kills_its_process_is_a_payload_error_and_the_next_parse_works() -> None:
    heavy = ProcessParser()
    try:
        with pytest.raises(PayloadError, match="process died"):
            await heavy.parse(DyingParser(), INBOX, b"boom", {})
        after = await heavy.parse(PidParser(), INBOX, b"fine", {})
    finally:
        heavy.close()
    assert isinstance(after, Ignored)


@pytest.mark.anyio
async def test_the_worker_stores_the_files_and_sends_back_the_message_without_their_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))  # where the payload is handed over
    store = tmp_path / "attachments"
    data = random.Random(7).randbytes(3 * 1024 * 1024)
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "ana@example.com", "support@acme.test", "scans"
    mail.set_content("The scans of the broken parcel.")
    mail.add_attachment(data, maintype="application", subtype="pdf", filename="scans.pdf")
    heavy = ProcessParser(attachment_dir=store)
    try:
        result = await heavy.parse(EmailParser(), INBOX, mail.as_bytes(), {})
    finally:
        heavy.close()
    assert isinstance(result, InboundMessage)
    [pdf] = result.attachments
    digest = hashlib.sha256(data).hexdigest()
    assert (pdf.filename, pdf.data, pdf.stored) == ("scans.pdf", b"", StoredFile(digest, len(data)))
    assert pdf.size == len(data)
    assert file_path(store, digest).read_bytes() == data
    assert list(spool.iterdir()) == []  # the handed-over payload is gone
