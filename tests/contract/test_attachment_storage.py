"""Where an inbound email's files end up, in both storage modes, for a mail parsed
in the server (small) and one parsed in the worker process (large): on disk by
content hash (the default), or in the database row."""

from __future__ import annotations

import email.policy
import random
import stat
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from tests.support.factories import deliver_email, make_email_inbox

from threadline.bootstrap import Container
from threadline.bus import PROCESS_BYTES
from threadline.queries.attachments import attachment_data
from threadline.settings import Settings
from threadline.storage.files import file_path
from threadline.storage.tables import attachments

pytestmark = pytest.mark.anyio


def mail_with(data: bytes, n: int) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"] = "ana@example.com", "support@acme.test"
    msg["Subject"], msg["Message-ID"] = "the scans", f"<scans-{n}@example.com>"
    msg.set_content("Scans attached.")
    msg.add_attachment(data, maintype="application", subtype="pdf", filename=f"scan-{n}.pdf")
    return msg.as_bytes(policy=email.policy.SMTP)


async def ingest_two(c: Container) -> tuple[list[bytes], list[sa.Row[tuple[object, ...]]]]:
    inbox = await make_email_inbox(c, max_attachment_bytes=8 * 1024 * 1024)
    files = [random.Random(n).randbytes(size) for n, size in enumerate((4096, 2 * PROCESS_BYTES))]
    for n, data in enumerate(files):
        outcome = await deliver_email(c, inbox, mail_with(data, n))
        assert outcome.status == "processed", outcome
    rows = await c.db.read(
        lambda conn: conn.execute(sa.select(attachments).order_by(attachments.c.id)).all()
    )
    return files, list(rows)


async def test_files_go_to_disk_by_default_whichever_process_parsed_the_mail(
    container: Container, settings: Settings
) -> None:
    assert settings.attachments_in_db is False  # the default
    files, rows = await ingest_two(container)
    root = container.bus.cfg.attachment_dir
    assert root is not None
    assert [(r.size, r.data) for r in rows] == [(len(f), None) for f in files]
    assert [attachment_data(r, root) for r in rows] == files


@pytest.fixture
def in_db(settings: Settings) -> Settings:
    settings.attachments_in_db = True
    return settings


@pytest.mark.usefixtures("in_db")
async def test_files_stay_in_the_row_when_kept_in_the_database(container: Container) -> None:
    assert container.bus.cfg.attachment_dir is None
    files, rows = await ingest_two(container)
    assert [bytes(r.data) for r in rows] == files
    assert [attachment_data(r, None) for r in rows] == files


async def test_files_on_disk_are_readable_by_our_own_user_only(container: Container) -> None:
    _, rows = await ingest_two(container)
    root = container.bus.cfg.attachment_dir
    assert root is not None
    for row in rows:
        path = file_path(root, row.sha256)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
