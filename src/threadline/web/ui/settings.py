"""Settings, for admins: agents and roles, teams, inboxes, API tokens and the
business profile. The CLI does the same through the same actions, for automation.

The pages live in settings_*.py, one per section; this module holds the
overview and the profile, and gathers the routes.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from litestar import get
from litestar.response import Redirect, Template

from threadline.queries.settings import settings_counts
from threadline.web.ui import settings_agents, settings_inboxes, settings_teams, settings_tokens
from threadline.web.ui.common import Agent, Req, container
from threadline.web.ui.settings_common import admin_or_answer, settings_page

__all__ = ["ROUTES"]


@get("/settings", include_in_schema=False)
async def overview(request: Req) -> Template | Redirect:
    agent = await admin_or_answer(request)
    if not isinstance(agent, Agent):
        return agent
    c = container(request)
    counts = await c.db.read(settings_counts)
    return await settings_page(
        request,
        agent,
        "ui/settings/overview.html",
        counts=counts,
        business=c.settings.business_name,
    )


def _zone_known(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@get("/settings/profile", include_in_schema=False)
async def profile(request: Req) -> Template | Redirect:
    """Read-only: the profile comes from the server's settings (THREADLINE_BUSINESS_*)
    until it has a table of its own."""
    agent = await admin_or_answer(request)
    if not isinstance(agent, Agent):
        return agent
    s = container(request).settings
    return await settings_page(
        request,
        agent,
        "ui/settings/profile.html",
        business_name=s.business_name,
        time_zone=s.business_time_zone,
        zone_known=_zone_known(s.business_time_zone),
        signature=s.business_signature,
        base_url=s.base_url(),
    )


ROUTES = [
    overview,
    profile,
    *settings_agents.ROUTES,
    *settings_teams.ROUTES,
    *settings_inboxes.ROUTES,
    *settings_tokens.ROUTES,
]
