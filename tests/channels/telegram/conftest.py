"""Telegram test fixtures.

The app's own port is chosen before the container is built, so the sandbox
base the senders use (settings.base_url() + "/sandbox") is the uvicorn server
the test starts: replies travel over real HTTP into the fake Bot API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.channels.telegram.support import free_port, serving

from threadline.bootstrap import Container
from threadline.settings import Settings
from threadline.web.app import create_app


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def app_port() -> int:
    return free_port()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, app_port: int) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        secret_key="test-secret",
        smtp_port=0,
        run_jobs=False,
        port=app_port,
    )


@pytest.fixture
async def live(container: Container, app_port: int) -> AsyncIterator[str]:
    """The whole app (webhooks, API, sandbox) on a real port; yields its base URL."""
    async with serving(create_app(container, manage_lifecycle=False), app_port) as base:
        yield base
