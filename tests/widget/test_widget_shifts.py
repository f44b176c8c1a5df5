"""Chat availability follows shifts: an agent online but off shift for chat does not
make the widget say "online"."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.widget import visitor_socket
from tests.widget.conftest import Widget

from threadline.actions.assignment_settings import set_agent_assignment
from threadline.bootstrap import Container

pytestmark = pytest.mark.anyio


def shift(channels: list[str]) -> dict[str, Any]:
    # The fake clock starts on Monday 09:00 UTC.
    span = {"days": ["mon"], "start": "08:00", "end": "17:00", "channels": channels}
    return {"timezone": "UTC", "spans": [span]}


@pytest.mark.parametrize(
    ("channels", "online"),
    [
        pytest.param(["chat", "voice"], True, id="on shift for chat"),
        pytest.param(["email"], False, id="on shift for email only"),
    ],
)
async def test_the_widget_is_online_only_with_an_agent_on_shift_for_chat(
    container: Container, widget: Widget, channels: list[str], online: bool
) -> None:
    await container.bus.execute(
        lambda tx: set_agent_assignment(
            tx, widget.agent_id, capacity={}, skills=[], shifts=shift(channels), actor="t"
        )
    )
    await container.presence.beat(widget.agent_id, "tab-1", active=True)
    async with visitor_socket(widget.url, widget.key) as s:
        assert s.welcome["online"] is online
