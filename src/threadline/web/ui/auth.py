"""Signing in and out of the workspace.

Sessions live in the database (web/sessions.py), so any web process can serve
any request and signing out ends every copy of the cookie.
"""

from __future__ import annotations

from typing import Annotated

from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from threadline.actions.sessions import end_session
from threadline.passwords import Busy
from threadline.web.login import Failed, Throttled, client_address, sign_in
from threadline.web.sessions import SESSION_COOKIE, session_cookies
from threadline.web.ui.common import Req, agent_or_none, container

__all__ = ["ROUTES"]


@get("/", include_in_schema=False)
async def home(request: Req) -> Redirect:
    return Redirect("/inbox" if agent_or_none(request) else "/login")


def _next(raw: object) -> str:
    """Where to go after signing in: a path on this site, never another site."""
    target = str(raw or "")
    if (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and target.isprintable()  # no CR/LF to smuggle a header into the redirect
    ):
        return target[:500]
    return "/inbox"


@get("/login", include_in_schema=False)
async def login_form(request: Req) -> Template:
    return Template(
        "login.html", context={"error": None, "next": _next(request.query_params.get("next"))}
    )


@post("/login", include_in_schema=False, status_code=200)
async def login(
    request: Req,
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template | Redirect:
    c = container(request)
    try:
        outcome = await sign_in(
            c,
            email=str(data.get("email", "")),
            password=str(data.get("password", "")),
            client=client_address(request, c.settings.trusted_proxies),
            previous=request.cookies.get(SESSION_COOKIE),
        )
    except Busy:
        return Template(
            "login.html",
            context={
                "next": _next(data.get("next")),
                "error": "Too many sign-ins at this moment. Try again in a few seconds.",
            },
            status_code=503,
            headers={"Retry-After": "5"},
        )
    if isinstance(outcome, Throttled):
        minutes = max(1, round(outcome.retry_after / 60))
        wait = (
            f"{outcome.retry_after} seconds" if outcome.retry_after < 90 else f"{minutes} minutes"
        )
        return Template(
            "login.html",
            context={
                "next": _next(data.get("next")),
                "error": f"Too many failed sign-ins. Try again in {wait}.",
            },
            status_code=429,
            headers={"Retry-After": str(outcome.retry_after)},
        )
    if isinstance(outcome, Failed):
        return Template(
            "login.html",
            context={"next": _next(data.get("next")), "error": "Wrong email or password."},
        )
    return Redirect(
        _next(data.get("next")),
        cookies=session_cookies(c.settings, outcome.session_token, outcome.csrf_token),
    )


@post("/logout", include_in_schema=False, status_code=200)
async def logout(request: Req) -> Redirect:
    c = container(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await c.bus.execute(lambda tx: end_session(tx, token=token))
    return Redirect("/login", cookies=session_cookies(c.settings, None, None))


ROUTES = [home, login_form, login, logout]
