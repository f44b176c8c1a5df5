"""Settings, for admins: agents and roles, teams, inboxes, API tokens, the
business profile, the triage lexicon and the intake checklist. The CLI does most of
the same through the same actions, for automation.

The pages live in settings_*.py, one per section; this module holds the
overview and gathers the routes.
"""

from __future__ import annotations

from litestar import get
from litestar.response import Redirect, Template

from threadline.queries.profile import business_profile
from threadline.queries.settings import settings_counts
from threadline.web.ui import (
    settings_agents,
    settings_assignment,
    settings_chat,
    settings_inboxes,
    settings_intake,
    settings_profile,
    settings_redirect,
    settings_rules,
    settings_sla,
    settings_teams,
    settings_tokens,
    settings_triage,
)
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
    profile = await c.db.read(lambda conn: business_profile(conn, c.settings))
    return await settings_page(
        request,
        agent,
        "ui/settings/overview.html",
        counts=counts,
        business=profile["name"],
    )


ROUTES = [
    overview,
    *settings_profile.ROUTES,
    *settings_agents.ROUTES,
    *settings_teams.ROUTES,
    *settings_inboxes.ROUTES,
    *settings_assignment.ROUTES,
    *settings_chat.ROUTES,
    *settings_rules.ROUTES,
    *settings_sla.ROUTES,
    *settings_redirect.ROUTES,
    *settings_tokens.ROUTES,
    *settings_triage.ROUTES,
    *settings_intake.ROUTES,
]
