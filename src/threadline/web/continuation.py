"""/continue/: where a redirect link from a social DM leads (docs/redirects.md).

Public by design: the signed, expiring token is the only credential. A token we
did not sign answers 404, one of ours past its time (or already used to prove
someone) 410, and neither says more. The page offers what the DM's inbox allows:
the business's chat page (the widget there proves the visitor with the
business's signed identity) and email (a one-time link to the address typed).
Posts are rate-limited per client address as well as per link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from litestar import get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from threadline.actions.chat_mail import TooSoon
from threadline.actions.errors import ActionError, NotFound
from threadline.actions.redirects import Expired, confirm_email, request_email_proof
from threadline.core.ratelimit import RateLimit, TokenBuckets
from threadline.core.redirect import RedirectConfigError, parse_redirect_config, read_link
from threadline.queries.profile import business_profile
from threadline.storage.tables import as_utc, inboxes, redirects
from threadline.web.login import client_address
from threadline.web.ui.common import Req, container

__all__ = ["POSTS", "ROUTES"]

MAX_TOKEN = 100
MAX_EMAIL_FIELD = 320
# Per client address, over every link: a person confirms once or twice; a script
# trying addresses or codes meets this long before it learns anything.
POSTS = RateLimit(burst=10, per_second=10 / 3600)


@dataclass(frozen=True, slots=True)
class _Link:
    redirect_id: int
    row: Any
    config: Any
    business: str
    has_email: bool


def _page(name: str, status: int = 200, **context: Any) -> Template:
    page = Template(
        f"continue/{name}.html",
        context={"agent": None, **context},
        status_code=status,
    )
    page.headers["Cache-Control"] = "no-store"
    page.headers["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    return page


def _gone() -> Template:
    return _page("gone", 410)


async def _link(request: Req, token: str) -> _Link | Template:
    """The redirect behind a link token; a 410 page when it is ours but spent."""
    c = container(request)
    read = (
        read_link(token, c.clock.now(), c.bus.cfg.secret_key) if len(token) <= MAX_TOKEN else None
    )
    if read is None:
        raise NotFoundException("no such link")
    redirect_id, expired = read
    if expired:
        return _gone()

    def load(conn: sa.Connection) -> tuple[Any, Any, bool, dict[str, Any]]:
        row = conn.execute(sa.select(redirects).where(redirects.c.id == redirect_id)).first()
        email = conn.execute(
            sa.select(inboxes.c.id).where(inboxes.c.channel == "email").limit(1)
        ).first()
        return row, email, email is not None, business_profile(conn, c.settings)

    row, _, has_email, profile = await c.db.read(load)
    if row is None:
        raise NotFoundException("no such link")
    if row.proved_at is not None or as_utc(row.expires_at) <= c.clock.now():  # type: ignore[operator]
        return _gone()
    config = None
    if row.inbox_id is not None:
        try:
            inbox = await c.bus.inbox(int(row.inbox_id))
            config = parse_redirect_config(inbox.config.get("redirect"))
        except (LookupError, RedirectConfigError):
            config = None
    if config is None:
        config = parse_redirect_config(None)
    business = str(profile.get("name") or "us")
    return _Link(redirect_id, row, config, business, has_email)


def _options(link: _Link, token: str) -> dict[str, Any]:
    chat = link.config.offer_chat and bool(link.config.chat_url)
    return {
        "business": link.business,
        "token": token,
        # The widget on the business's page reads the token from the fragment, which
        # no server (theirs or a proxy) is sent.
        "chat_url": f"{link.config.chat_url}#tl-continue={token}" if chat else None,
        "offer_email": link.config.offer_email and link.has_email,
    }


def _limited(request: Req) -> bool:
    c = container(request)
    client = client_address(request, c.settings.trusted_proxies)
    buckets = getattr(request.app.state, "continue_posts", None)
    if buckets is None:  # one per app, as the app's other limits
        buckets = request.app.state.continue_posts = TokenBuckets(POSTS)
    return bool(buckets.take(client, c.clock.now().timestamp()) > 0)


@get("/continue/{token:str}", include_in_schema=False)
async def continue_page(request: Req, token: FromPath[str]) -> Template:
    link = await _link(request, token)
    if isinstance(link, Template):
        return link
    return _page("choose", **_options(link, token))


@post("/continue/{token:str}/email", include_in_schema=False, status_code=200)
async def continue_by_email(request: Req, token: FromPath[str]) -> Template:
    link = await _link(request, token)
    if isinstance(link, Template):
        return link
    options = _options(link, token)
    if not options["offer_email"]:
        raise NotFoundException("no such link")
    if _limited(request):
        return _page("choose", 429, error="Too many tries from here; try again later.", **options)
    form = await request.form()
    raw = form.get("email")
    email = raw[: MAX_EMAIL_FIELD + 1] if isinstance(raw, str) else ""
    c = container(request)
    base, business, redirect_id = c.settings.base_url(), link.business, link.redirect_id
    try:
        sent_to = await c.bus.execute(
            lambda tx: request_email_proof(
                tx, redirect_id=redirect_id, email=email, base_url=base, business=business
            )
        )
    except Expired:
        return _gone()
    except TooSoon as exc:
        return _page("choose", 429, error=str(exc).capitalize() + ".", **options)
    except ActionError as exc:
        return _page("choose", 422, error=str(exc).capitalize() + ".", **options)
    return _page("sent", email=sent_to, business=business)


def _code(code: str) -> str:
    if not 20 <= len(code) <= 64:
        raise NotFoundException("no such link")
    return code


@get("/continue/confirm/{token:str}", include_in_schema=False)
async def confirm_page(request: Req, token: FromPath[str]) -> Template:
    """A button, not the confirmation itself: mail scanners open links, and the
    code is good for one use."""
    return _page("confirm", code=_code(token))


@post("/continue/confirm/{token:str}", include_in_schema=False, status_code=200)
async def confirm(request: Req, token: FromPath[str]) -> Template:
    code = _code(token)
    if _limited(request):
        return _page("confirm", 429, code=code, error="Too many tries from here; try later.")
    c = container(request)
    cfg = c.bus.cfg
    try:
        await c.bus.execute(lambda tx: confirm_email(tx, cfg, code=code))
    except NotFound as exc:
        raise NotFoundException("no such link") from exc
    except Expired:
        return _gone()
    return _page("confirmed")


ROUTES = [continue_page, continue_by_email, confirm_page, confirm]
