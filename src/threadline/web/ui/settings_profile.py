"""Settings: the business profile (name, default time zone, email signature).

Until an admin saves it, the page shows the THREADLINE_BUSINESS_* settings,
which stay in force (queries/profile.py).
"""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.response import Redirect, Template

from threadline.actions.errors import ActionError
from threadline.actions.profile import (
    MAX_NAME,
    MAX_SIGNATURE,
    MAX_ZONE,
    known_zones,
    set_business_profile,
    zone_known,
)
from threadline.queries.profile import business_profile
from threadline.web.ui.common import Agent, Req, container
from threadline.web.ui.settings_common import (
    admin_view,
    done,
    error_status,
    read_form,
    require_admin,
    settings_page,
)

__all__ = ["ROUTES"]

PAGE = "/settings/profile"


async def _profile(
    request: Req,
    agent: Agent,
    *,
    error: str | None = None,
    status_code: int = 200,
    typed: dict[str, str] | None = None,
) -> Template:
    c = container(request)
    stored: dict[str, Any] = await c.db.read(lambda conn: business_profile(conn, c.settings))
    return await settings_page(
        request,
        agent,
        "ui/settings/profile.html",
        error=error,
        status_code=status_code,
        profile=stored,
        # A refused form shows what was typed, not what is stored.
        form=typed
        or {
            "name": stored["name"] or "",
            "time_zone": stored["time_zone"],
            "email_signature": stored["email_signature"] or "",
        },
        zone_known=zone_known(stored["time_zone"]),
        zones=known_zones(),
        max_name=MAX_NAME,
        max_zone=MAX_ZONE,
        max_signature=MAX_SIGNATURE,
        base_url=c.settings.base_url(),
    )


@get(PAGE, include_in_schema=False)
async def profile_page(request: Req) -> Template | Redirect:
    return await admin_view(request, _profile)


@post(PAGE, include_in_schema=False, status_code=200)
async def save_profile(request: Req) -> Template | Redirect:
    agent = await require_admin(request)
    form = await read_form(request)
    typed = {
        "name": form.text("name", MAX_NAME),
        "time_zone": form.text("time_zone", MAX_ZONE),
        # As typed, spaces and all; CRLF line ends may double its length on the way in.
        "email_signature": form.raw("email_signature", 2 * MAX_SIGNATURE),
    }
    try:
        await container(request).bus.execute(
            lambda tx: set_business_profile(
                tx,
                name=typed["name"],
                time_zone=typed["time_zone"],
                email_signature=typed["email_signature"],
                actor_id=agent.id,
            )
        )
    except ActionError as exc:
        return await _profile(
            request, agent, error=str(exc), status_code=error_status(exc), typed=typed
        )
    return done(PAGE, "profile_saved")


ROUTES = [profile_page, save_profile]
