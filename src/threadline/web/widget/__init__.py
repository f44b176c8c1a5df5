"""The live-chat widget's server side: the socket, the REST fallback, the script
and the chat's files (docs/widget.md). Public by design: a visitor's session
token and the inbox's allowed origins are the checks, not an agent's login."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from threadline.web.widget import assets, rest, socket
from threadline.web.widget.state import WidgetState, widget_state

__all__ = ["WIDGET_ROUTES", "WidgetState", "widget_state"]

WIDGET_ROUTES: list[ControllerRouterHandler] = [*socket.ROUTES, *rest.ROUTES, *assets.ROUTES]
