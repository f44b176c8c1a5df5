"""Settings: a social inbox's redirect of account questions to a verified channel
(docs/redirects.md): on or off, the reply's words, and the ways offered."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from litestar import get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from threadline.actions.errors import ActionError
from threadline.actions.redirects import set_redirect_settings
from threadline.core.model import Channel
from threadline.core.redirect import (
    DEFAULT_TEMPLATE,
    MAX_CHAT_URL,
    MAX_TEMPLATE,
    SOCIAL,
    RedirectConfigError,
    parse_redirect_config,
)
from threadline.storage.tables import inboxes
from threadline.web.api.params import Id
from threadline.web.ui.common import Agent, Req, container
from threadline.web.ui.settings_common import (
    actor,
    admin_view,
    change_inbox,
    done,
    error_status,
    read_form,
    require_admin,
    settings_page,
)

__all__ = ["ROUTES"]

PAGE = "/settings/inboxes/{inbox_id:int}/redirect"


async def _page(
    request: Req,
    agent: Agent,
    inbox_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
    typed: dict[str, Any] | None = None,
) -> Template:
    c = container(request)
    row = await c.db.read(
        lambda conn: conn.execute(
            sa.select(inboxes.c.id, inboxes.c.name, inboxes.c.channel, inboxes.c.config).where(
                inboxes.c.id == inbox_id
            )
        ).first()
    )
    if row is None or Channel(row.channel) not in SOCIAL:
        raise NotFoundException(f"no social inbox {inbox_id}")
    try:
        shown = parse_redirect_config((row.config or {}).get("redirect")).as_config()
    except RedirectConfigError as exc:
        shown, error = {}, error or f"The stored settings cannot be read ({exc}); save new ones."
    return await settings_page(
        request,
        agent,
        "ui/settings/redirect.html",
        error=error,
        status_code=status_code,
        inbox=row,
        redirect=typed or shown,
        default_template=DEFAULT_TEMPLATE,
        max_template=MAX_TEMPLATE,
        max_chat_url=MAX_CHAT_URL,
    )


@get(PAGE, include_in_schema=False)
async def redirect_page(request: Req, inbox_id: Id) -> Template | Redirect:
    return await admin_view(request, _page, inbox_id)


@post(PAGE, include_in_schema=False, status_code=200)
async def save_redirect(request: Req, inbox_id: Id) -> Template | Redirect:
    agent = await require_admin(request)
    form = await read_form(request)
    raw: dict[str, Any] = {
        "enabled": form.text("enabled", 8) == "1",
        "template": form.raw("template", 4 * MAX_TEMPLATE),
        "offer_chat": form.text("offer_chat", 8) == "1",
        "offer_email": form.text("offer_email", 8) == "1",
        "chat_url": form.text("chat_url", MAX_CHAT_URL + 1),
    }
    who = actor(agent)
    try:
        # the redirect job reads the loaded inboxes
        await change_inbox(request, lambda tx: set_redirect_settings(tx, inbox_id, raw, actor=who))
    except ActionError as exc:
        return await _page(
            request, agent, inbox_id, error=str(exc), status_code=error_status(exc), typed=raw
        )
    return done(f"/settings/inboxes/{inbox_id}/redirect", "redirect_saved")


ROUTES = [redirect_page, save_redirect]
