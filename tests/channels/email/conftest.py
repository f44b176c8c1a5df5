from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from tests.support.dns import FakeResolver

# A real Dovecot for IMAP tests: `dovecot` is a fresh account on a per-session server.
from tests.support.dovecot_fixture import dovecot, dovecot_server  # noqa: F401
from tests.support.servers import free_port

from threadline.channels.email.smtp import start_smtp_server


@pytest.fixture
def dns() -> FakeResolver:
    """The DNS our SMTP server checks senders against: empty until a test publishes records."""
    return FakeResolver()


@pytest.fixture
async def smtp(container: Any, dns: FakeResolver) -> AsyncIterator[int]:
    """Our own SMTP server on a free port; yields the port."""
    port = free_port()
    server = await start_smtp_server(
        container.bus,
        "127.0.0.1",
        port,
        max_bytes=container.settings.email_max_bytes,
        resolver=dns,
    )
    yield port
    server.close()
    await server.wait_closed()
