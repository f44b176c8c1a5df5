"""pytest fixtures for a real Dovecot: one server per session, one fresh account per test.

Use from a conftest.py::

    from tests.support.dovecot_fixture import dovecot, dovecot_server  # noqa: F401
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.support.dovecot import Dovecot, dovecot_available, running_dovecot

__all__ = ["dovecot", "dovecot_server", "require_dovecot"]


def require_dovecot() -> None:
    """Skip the calling test without Dovecot (fail instead under THREADLINE_REQUIRE_SERVICES=1).

    For tests that run a private server (``running_dovecot()``) instead of the fixtures.
    """
    if dovecot_available():
        return
    # CI sets THREADLINE_REQUIRE_SERVICES=1 so a missing server can't turn the
    # IMAP tests into silent skips.
    if os.environ.get("THREADLINE_REQUIRE_SERVICES") == "1":
        pytest.fail("dovecot not installed (THREADLINE_REQUIRE_SERVICES=1)")
    pytest.skip("dovecot not installed")


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    """The session's Dovecot; its default account is shared, so prefer ``dovecot``."""
    require_dovecot()
    with running_dovecot() as server:
        yield server


@pytest.fixture
def dovecot(dovecot_server: Dovecot) -> Dovecot:
    """The session's server bound to a new account, i.e. an empty mailbox for this test."""
    return dovecot_server.with_user(f"t-{uuid.uuid4().hex[:12]}@acme.test")
