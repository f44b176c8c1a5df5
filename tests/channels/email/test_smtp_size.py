"""The SMTP size cap is Settings.email_max_bytes, refused before anything is stored."""

from __future__ import annotations

import smtplib

import pytest
import sqlalchemy as sa
from tests.support.factories import make_email, make_email_inbox
from tests.support.mail import smtp_send

from threadline.storage.tables import messages

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    settings.email_max_bytes = 64 * 1024
    return settings


async def test_the_size_cap_comes_from_the_settings(container, smtp) -> None:  # type: ignore[no-untyped-def]
    c = container
    await make_email_inbox(c)
    big, _ = make_email(body=("x" * 79 + "\n") * 1024)
    with pytest.raises(smtplib.SMTPResponseException) as refused:  # at MAIL (SIZE=) or DATA
        await smtp_send(smtp, big)
    assert refused.value.smtp_code == 552
    small, mid = make_email(body=("x" * 79 + "\n") * 512)
    assert await smtp_send(smtp, small) == {}
    stored = await c.db.read(
        lambda conn: conn.execute(sa.select(messages.c.provider_message_id)).scalars().all()
    )
    assert stored == [mid]
