"""Settings: inboxes. Connect one per provider, see the webhook URL to paste,
and check its credentials with the provider itself.

Secrets go in and never come back out: the page shows which settings are set,
never a value, and a refused form is shown again without its secrets.
"""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from threadline.actions.errors import ActionError
from threadline.actions.inboxes import connect_inbox
from threadline.bus import UnknownInbox
from threadline.channels.probes import CHECKS, CheckContext, CheckResult, check_inbox
from threadline.queries.settings import inbox_settings
from threadline.web.api.params import Id
from threadline.web.ui.common import Agent, Req, container, is_htmx
from threadline.web.ui.settings_chat import PREVIEW_CSP, chat_form_context
from threadline.web.ui.settings_common import (
    actor,
    admin_view,
    done,
    error_status,
    read_form,
    require_admin,
    settings_page,
)
from threadline.web.ui.settings_providers import (
    BY_CHANNEL,
    BY_KEY,
    CHAT_FIELDS,
    MAX_VALUE,
    PROVIDERS,
    parse_chat_form,
    parse_connect,
    webhook_urls,
)

__all__ = ["ROUTES"]

PAGE = "/settings/inboxes"


async def _inboxes(
    request: Req,
    agent: Agent,
    *,
    error: str | None = None,
    status_code: int = 200,
    checked: dict[int, CheckResult] | None = None,
    **extra: Any,
) -> Template:
    c = container(request)
    settings = c.settings
    base = settings.base_url()
    smtp = f"{settings.smtp_host}:{settings.smtp_port}" if settings.smtp_port else None
    rows = await c.db.read(inbox_settings)
    for row in rows:
        row["urls"] = webhook_urls(row["channel"], row["id"], base, smtp, address=row["address"])
        row["provider"] = BY_CHANNEL.get(row["channel"])
        row["checkable"] = row["channel"] in CHECKS
    page = await settings_page(
        request,
        agent,
        "ui/settings/inboxes.html",
        error=error,
        status_code=status_code,
        inboxes=rows,
        providers=PROVIDERS,
        base_url=base,
        # providers cannot reach a loopback address: say so before they fail silently
        local_only=settings.public_url is None,
        sandbox=settings.sandbox,
        checked=checked or {},
        **chat_form_context(),
        **extra,
    )
    page.headers["Content-Security-Policy"] = PREVIEW_CSP  # the chat preview's avatar
    return page


@get(PAGE, include_in_schema=False)
async def inboxes_page(request: Req) -> Template | Redirect:
    return await admin_view(request, _inboxes)


@post(f"{PAGE}/connect/{{provider:str}}", include_in_schema=False, status_code=200)
async def connect(request: Req, provider: FromPath[str]) -> Template | Redirect:
    agent = await require_admin(request)
    spec = BY_KEY.get(provider)
    if spec is None:
        raise NotFoundException("no such provider")
    c = container(request)
    posted = await read_form(request)
    chat = spec.channel == "chat"
    if chat:
        form = {k: posted.raw(k, limit) for k, limit in CHAT_FIELDS.items()}
    else:
        form = posted.as_text(MAX_VALUE)
    try:
        if chat:
            name, address, config = parse_chat_form(form)
        else:
            name, address, config = parse_connect(spec, form, sandbox_allowed=c.settings.sandbox)
        inbox_id = await c.bus.execute(
            lambda tx: connect_inbox(
                tx,
                channel=spec.channel,
                name=name,
                address=address,
                config=config,
                secret=c.bus.cfg.secret_key,
                actor=actor(agent),
            )
        )
    except ActionError as exc:
        secret = {f.key for f in spec.fields if f.secret}
        typed = {k: v for k, v in form.items() if k not in secret and k != "_csrf_token"}
        return await _inboxes(
            request,
            agent,
            error=f"{spec.title}: {exc}",
            status_code=error_status(exc),
            open_provider=spec.key,
            typed=typed,
        )
    await c.bus.reload_inboxes()  # webhooks and senders serve it from now on
    if chat:  # next: the snippet, the secret, the preview and the test page
        return done(f"{PAGE}/{inbox_id}/chat", "chat_added")
    return done(PAGE, "inbox_added", f"#inbox-{inbox_id}")


@post(f"{PAGE}/{{inbox_id:int}}/check", include_in_schema=False, status_code=200)
async def check(request: Req, inbox_id: Id) -> Template:
    """Ask the provider; the answer, in words, under the inbox (or the whole page)."""
    agent = await require_admin(request)
    c = container(request)
    try:
        inbox = await c.bus.inbox(inbox_id)
    except UnknownInbox as exc:
        raise NotFoundException(str(exc)) from exc
    context = CheckContext(
        http=c.http,
        sandbox_base=f"{c.settings.base_url()}/sandbox",  # as bootstrap gives the senders
        email=c.senders.get("email"),
    )
    result = await check_inbox(inbox, context)
    if is_htmx(request):
        return Template("ui/settings/_check.html", context={"result": result})
    return await _inboxes(request, agent, checked={inbox_id: result})


ROUTES = [inboxes_page, connect, check]
