import pytest

# A real Dovecot for IMAP tests: `dovecot` is a fresh account on a per-session server.
from tests.support.dovecot_fixture import dovecot, dovecot_server  # noqa: F401


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
