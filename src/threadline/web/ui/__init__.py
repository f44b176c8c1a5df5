"""The agent workspace: server-rendered pages, htmx for the small swaps, one live
stream per tab (docs/decisions/0003-workspace-front-end.md)."""

from __future__ import annotations

from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from threadline.web.ui import (
    actions,
    auth,
    contact,
    conversation,
    customer,
    inbox,
    search,
    settings,
    stream,
    triage,
)
from threadline.web.ui.render import STATIC, ui_template_config

__all__ = ["UI_ROUTES", "ui_template_config"]

# Fingerprinted URLs (render.asset) let browsers keep these for a year.
_STATIC = create_static_files_router(
    path="/static",
    directories=[STATIC],
    cache_control=None,
    include_in_schema=False,
    send_as_attachment=False,
)

UI_ROUTES: list[ControllerRouterHandler] = [
    *auth.ROUTES,
    *contact.ROUTES,
    *inbox.ROUTES,
    *conversation.ROUTES,
    *actions.ROUTES,
    *triage.ROUTES,
    *customer.ROUTES,
    *search.ROUTES,
    *stream.ROUTES,
    *settings.ROUTES,
    _STATIC,
]
