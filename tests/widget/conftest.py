"""The widget's contract tests: the whole app on a real uvicorn with WebSockets,
a chat inbox that allows one page, and an agent, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from tests.support.factories import make_agent, make_inbox
from tests.support.servers import serving
from tests.support.widget import ORIGIN, SECRET

from threadline.bootstrap import Container
from threadline.web.app import create_app

KEY = "chat_acme"


@dataclass(frozen=True)
class Widget:
    url: str  # the app's base URL
    key: str  # the chat inbox's widget key
    inbox_id: int
    agent_id: int


@pytest.fixture
async def widget(container: Container, app_port: int) -> AsyncIterator[Widget]:
    inbox_id = await make_inbox(
        container,
        "chat",
        "Acme chat",
        KEY,
        {"allowed_origins": [ORIGIN], "identity_secret": SECRET, "color": "#112233"},
    )
    agent_id, _ = await make_agent(container, "ana@acme.test")
    app = create_app(container, manage_lifecycle=False)
    async with serving(app, app_port, ws="websockets-sansio") as url:
        yield Widget(url, KEY, inbox_id, agent_id)
    await app.state.widget.hub.stop()
    await app.state.hub.stop()
