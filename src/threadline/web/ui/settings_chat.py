"""Settings: one chat inbox. The widget's branding and the sites that may embed
it, with a live preview; the snippet to paste; the identity secret, shown only
when asked for, with the server-side code that signs a user; and a test page
where the admin chats with themselves (docs/widget.md).

The secret is revealed by a POST (CSRF-checked and audited), never in a page
that a GET returns: a page left open, cached or screenshotted does not carry it.
"""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from threadline.actions.errors import ActionError
from threadline.actions.inboxes import load_inbox, reveal_chat_secret, update_chat_inbox
from threadline.core.chat_config import (
    MAX_GREETING,
    MAX_ORIGINS,
    POSITIONS,
    PRECHAT_MODES,
    ChatConfig,
    ChatConfigError,
    new_identity_secret,
    origin_of,
    parse_chat_config,
    widget_snippet,
)
from threadline.ports import Inbox
from threadline.queries.settings import inbox_row
from threadline.web.api.params import Id
from threadline.web.ui.common import Agent, Req, container, is_htmx
from threadline.web.ui.errors import CSP
from threadline.web.ui.settings_common import (
    actor,
    admin_or_answer,
    admin_view,
    change_inbox,
    done,
    error_status,
    execute,
    read_form,
    require_admin,
    settings_page,
)
from threadline.web.ui.settings_providers import CHAT_FIELDS, parse_chat_form

__all__ = [
    "NODE_SAMPLE",
    "PREVIEW_CSP",
    "PYTHON_SAMPLE",
    "ROUTES",
    "chat_form_context",
    "sample_page_csp",
]

PAGE = "/settings/inboxes/{inbox_id:int}/chat"


def _url(inbox_id: int, sub: str = "") -> str:
    return f"/settings/inboxes/{inbox_id}/chat{sub}"


# The preview shows the avatar the admin types, from wherever it is hosted.
PREVIEW_CSP = CSP.replace("img-src 'self' data:;", "img-src 'self' data: https:;")

# What the business's server runs to sign a user (docs/widget.md, "Verified").
# tests/ui/test_settings_chat.py runs both and compares with core.identity_hash.
PYTHON_SAMPLE = r'''import hashlib
import hmac
import os


def threadline_identity(user_id: str, email: str) -> dict[str, str]:
    """What your page passes to the widget for a signed-in user."""
    secret = os.environ["THREADLINE_CHAT_SECRET"].encode()
    message = f"{user_id}\n{email}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).hexdigest()
    return {"user_id": user_id, "email": email, "hash": digest}
'''
NODE_SAMPLE = r"""const crypto = require("node:crypto");

function threadlineIdentity(userId, email) {
  const hash = crypto
    .createHmac("sha256", process.env.THREADLINE_CHAT_SECRET)
    .update(`${userId}\n${email}`)
    .digest("hex");
  return { user_id: userId, email, hash };
}
"""


def sample_page_csp(base_url: str) -> str:
    """The test page is a stand-in for the business's own page: the widget may load
    from our public address, talk to it (WebSocket too) and style its shadow root."""
    origin = origin_of(base_url) or ""  # an odd public URL: our own origin ('self') only
    ours = f" {origin}" if origin else ""
    sockets = f" ws{origin.removeprefix('http')}" if origin else ""
    return (
        f"default-src 'self'; script-src 'self'{ours}; connect-src 'self'{ours}{sockets}; "
        f"img-src 'self' data: https:{ours}; style-src 'self' 'unsafe-inline'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


async def _load(request: Req, inbox_id: int) -> Inbox:
    c = container(request)
    row = await c.db.read(lambda conn: inbox_row(conn, inbox_id))
    if row is None or row.channel != "chat":
        raise NotFoundException(f"no chat inbox {inbox_id}")
    return load_inbox(row, c.bus.cfg.secret_key)


def _form_values(inbox: Inbox, config: ChatConfig) -> dict[str, str]:
    return {
        "name": inbox.name,
        "address": inbox.address,
        "allowed_origins": "\n".join(config.allowed_origins),
        "color": config.color,
        "greeting": config.greeting,
        "avatar_url": config.avatar_url,
        "position": config.position,
        "prechat": config.prechat,
    }


async def _page(
    request: Req,
    agent: Agent,
    inbox_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
    typed: dict[str, str] | None = None,
    revealed: str | None = None,
) -> Template:
    c = container(request)
    inbox = await _load(request, inbox_id)
    try:
        config = parse_chat_config(inbox.config)
    except ChatConfigError as exc:
        # Stored before it was checked: the form starts from the defaults and says why.
        config = ChatConfig()
        error = error or f"The stored settings are not usable ({exc}); saving the form fixes them."
    base = c.settings.base_url()
    page = await settings_page(
        request,
        agent,
        "ui/settings/chat.html",
        error=error,
        status_code=status_code,
        inbox=inbox,
        chat=typed or _form_values(inbox, config),
        snippet=widget_snippet(base, inbox.address),
        base_url=base,
        local_only=c.settings.public_url is None,
        revealed=revealed,
        python_sample=PYTHON_SAMPLE,
        node_sample=NODE_SAMPLE,
        **chat_form_context(),
    )
    page.headers["Content-Security-Policy"] = PREVIEW_CSP
    return page


def chat_form_context() -> dict[str, Any]:
    """What templates/ui/settings/_chat_form.html and _chat_preview.html need."""
    return {
        "chat_defaults": ChatConfig().public(),
        "positions": POSITIONS,
        "prechat_modes": PRECHAT_MODES,
        "max_origins": MAX_ORIGINS,
        "max_greeting": MAX_GREETING,
    }


@get(PAGE, include_in_schema=False)
async def chat_page(request: Req, inbox_id: Id) -> Template | Redirect:
    return await admin_view(request, _page, inbox_id)


@post(PAGE, include_in_schema=False, status_code=200)
async def save_chat(request: Req, inbox_id: Id) -> Template | Redirect:
    agent = await require_admin(request)
    c = container(request)
    posted = await read_form(request)
    typed = {k: posted.raw(k, limit) for k, limit in CHAT_FIELDS.items() if k != "address"}
    try:
        name, _, config = parse_chat_form(typed)
        await change_inbox(
            request,
            lambda tx: update_chat_inbox(
                tx,
                inbox_id,
                config,
                secret=c.bus.cfg.secret_key,
                actor=actor(agent),
                name=name,
            ),
        )
    except ActionError as exc:
        inbox = await _load(request, inbox_id)
        return await _page(
            request,
            agent,
            inbox_id,
            error=str(exc),
            status_code=error_status(exc),
            typed={**typed, "address": inbox.address},
        )
    return done(_url(inbox_id), "chat_saved")


@post(f"{PAGE}/secret", include_in_schema=False, status_code=200)
async def reveal_secret(request: Req, inbox_id: Id) -> Template:
    """The secret, for the admin who clicked: the fragment (htmx) or the whole page."""
    agent = await require_admin(request)
    c = container(request)
    try:
        value = await execute(
            request,
            lambda tx: reveal_chat_secret(
                tx, inbox_id, secret=c.bus.cfg.secret_key, actor=actor(agent)
            ),
        )
    except ActionError as exc:
        return await _page(request, agent, inbox_id, error=str(exc), status_code=422)
    if is_htmx(request):
        return Template(
            "ui/settings/_chat_secret.html",
            context={"revealed": value, "inbox": await _load(request, inbox_id)},
        )
    return await _page(request, agent, inbox_id, revealed=value)


@post(f"{PAGE}/secret/new", include_in_schema=False, status_code=200)
async def new_secret(request: Req, inbox_id: Id) -> Redirect:
    """A new identity secret; the old one stops verifying at once."""
    agent = await require_admin(request)
    c = container(request)
    await change_inbox(
        request,
        lambda tx: update_chat_inbox(
            tx,
            inbox_id,
            {"identity_secret": new_identity_secret()},
            secret=c.bus.cfg.secret_key,
            actor=actor(agent),
        ),
    )
    return done(_url(inbox_id), "chat_secret_new", "#identity")


@get("/settings/inboxes/{inbox_id:int}/test-page", include_in_schema=False)
async def chat_test_page(request: Req, inbox_id: Id) -> Template | Redirect:
    """Our page with the real widget on it, for the admin to chat with themselves.
    Its origin is ours, which the widget server accepts for every chat inbox."""
    agent = await admin_or_answer(request)
    if not isinstance(agent, Agent):
        return agent
    inbox = await _load(request, inbox_id)
    base = container(request).settings.base_url()
    return Template(
        "ui/settings/chat_test.html",
        context={
            "inbox": inbox,
            "base_url": base,
            "widget_src": f"{base}/widget.js",
            "setup": _url(inbox_id),
        },
        headers={"Content-Security-Policy": sample_page_csp(base)},
    )


ROUTES = [chat_page, save_chat, reveal_secret, new_secret, chat_test_page]
