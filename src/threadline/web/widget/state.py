"""The widget's per-process state, kept on the app: the service and the hub."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Litestar

from threadline.bootstrap import Container
from threadline.web.widget.hub import WidgetHub
from threadline.web.widget.service import WidgetService

__all__ = ["WidgetState", "widget_state"]


@dataclass
class WidgetState:
    service: WidgetService
    hub: WidgetHub

    @classmethod
    def build(cls, container: Container) -> WidgetState:
        service = WidgetService(container)
        return cls(service, WidgetHub(container, service))


def widget_state(app: Litestar | Any) -> WidgetState:
    found: WidgetState = app.state.widget
    return found
