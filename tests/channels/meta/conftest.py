"""Meta test fixtures: a Graph API that answers what a test tells it to.

Replies to the sandbox use ``served`` (tests/conftest.py): the app on the port
the container's sandbox base already points at.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tests.channels.meta.support import FakeGraph
from tests.support.servers import free_port, serving


@pytest.fixture
async def graph() -> AsyncIterator[tuple[FakeGraph, str]]:
    fake = FakeGraph()
    async with serving(fake, free_port()) as url:
        yield fake, url
