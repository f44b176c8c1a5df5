"""Settings → Assignment: how each inbox hands out conversations, and what each
agent takes (capacity per channel, skills, shifts). The same actions as the API."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.response import Redirect, Template
from sqlalchemy.engine import Connection

from threadline.actions.assignment_settings import set_agent_assignment, set_inbox_assignment
from threadline.actions.errors import ActionError
from threadline.core.assignment import DEFAULT_CAPACITY, MAX_CAPACITY, Strategy
from threadline.core.shifts import ScheduleError, schedule_from_text, schedule_to_text
from threadline.queries.assignment import agent_settings, inbox_settings_view
from threadline.queries.scope import EVERYTHING
from threadline.queries.settings import list_people
from threadline.queries.teams import list_inboxes, list_teams
from threadline.web.api.params import Id
from threadline.web.ui.common import Agent, Req, container
from threadline.web.ui.settings_common import (
    Form,
    actor,
    admin_view,
    done,
    error_status,
    execute,
    read_form,
    require_admin,
    settings_page,
)

__all__ = ["ROUTES"]

PAGE = "/settings/assignment"
STRATEGIES = (
    (Strategy.MANUAL.value, "By hand"),
    (Strategy.ROUND_ROBIN.value, "Round robin"),
    (Strategy.LOAD_BALANCED.value, "Least loaded"),
)


def _context(conn: Connection) -> dict[str, Any]:
    boxes = list_inboxes(conn, scope=EVERYTHING)
    people = [
        p for p in list_people(conn) if p["role"] in ("admin", "agent") and not p["deactivated_at"]
    ]
    settings = agent_settings(conn, [p["id"] for p in people])
    for p in people:
        mine = settings[p["id"]]
        p["capacity"] = mine["capacity"]
        p["skills_text"] = ", ".join(mine["skills"])
        p["shifts_text"] = schedule_to_text(mine["shifts"])
        p["shifts_zone"] = (mine["shifts"] or {}).get("timezone", "UTC")
    return {
        "inboxes": boxes,
        "inbox_settings": inbox_settings_view(conn, [i["id"] for i in boxes]),
        "people": people,
        "teams": list_teams(conn),
        "strategies": STRATEGIES,
        "channels": list(DEFAULT_CAPACITY.items()),
        "max_capacity": MAX_CAPACITY,
    }


async def _page(
    request: Req,
    agent: Agent,
    *,
    error: str | None = None,
    status_code: int = 200,
    kept: tuple[str, int, dict[str, Any]] | None = None,
) -> Template:
    """``kept``: a refused form's values (("inbox" | "agent", id, values)), shown
    again in its place rather than what is stored, so nothing typed is lost."""
    context = await container(request).db.read(_context)
    if kept is not None:
        kind, key, values = kept
        if kind == "inbox" and key in context["inbox_settings"]:
            context["inbox_settings"][key].update(values)
        for p in context["people"] if kind == "agent" else ():
            if p["id"] == key:
                p.update(values)
    return await settings_page(
        request,
        agent,
        "ui/settings/assignment.html",
        error=error,
        status_code=status_code,
        **context,
    )


@get(PAGE, include_in_schema=False)
async def assignment_page(request: Req) -> Template | Redirect:
    return await admin_view(request, _page)


def _words(form: Form, name: str) -> list[str]:
    return [w.strip() for w in form.text(name, 4000).split(",") if w.strip()]


def _team(form: Form) -> int | None:
    raw = form.text("level2_team_id", 20)
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ActionError("pick the level-2 team from the list")
    return int(raw)


def _inbox_form(form: Form) -> dict[str, Any]:
    """The inbox form as sent, the team id as far as it is one (to show it again)."""
    raw = form.text("level2_team_id", 20)
    return {
        "strategy": form.text("strategy", 20),
        "sticky": form.flag("sticky"),
        "skills": _words(form, "skills"),
        "level2_team_id": int(raw) if raw.isdigit() and len(raw) <= 18 else None,
        "batch_times": _words(form, "batch_times"),
        "batch_timezone": form.text("batch_timezone", 64) or "UTC",
    }


def _capacity(form: Form) -> dict[str, int]:
    out = {}
    for channel in DEFAULT_CAPACITY:
        raw = form.text(f"capacity_{channel}", 10)
        if raw:
            if not raw.isdigit():
                raise ActionError(f"capacity for {channel} is a whole number")
            out[channel] = int(raw)
    return out


@post(f"{PAGE}/inboxes/{{inbox_id:int}}", include_in_schema=False, status_code=200)
async def save_inbox(request: Req, inbox_id: Id) -> Template | Redirect:
    agent = await require_admin(request)
    form = await read_form(request)
    sent = _inbox_form(form)
    try:
        values = {**sent, "level2_team_id": _team(form)}
        await execute(
            request, lambda tx: set_inbox_assignment(tx, inbox_id, actor=actor(agent), **values)
        )
    except ActionError as exc:
        return await _page(
            request,
            agent,
            error=str(exc),
            status_code=error_status(exc),
            kept=("inbox", inbox_id, sent),
        )
    return done(PAGE, "assignment_saved", f"#inbox-{inbox_id}")


@post(f"{PAGE}/agents/{{user_id:int}}", include_in_schema=False, status_code=200)
async def save_agent(request: Req, user_id: Id) -> Template | Redirect:
    agent = await require_admin(request)
    form = await read_form(request)
    try:
        try:
            shifts = schedule_from_text(
                form.raw("shifts", 5001), form.text("shifts_timezone", 64) or "UTC"
            )
        except ScheduleError as exc:
            raise ActionError(f"shifts: {exc}") from None
        capacity, skills = _capacity(form), _words(form, "skills")
        await execute(
            request,
            lambda tx: set_agent_assignment(
                tx, user_id, capacity=capacity, skills=skills, shifts=shifts, actor=actor(agent)
            ),
        )
    except ActionError as exc:
        sent = {
            "capacity": {c: form.text(f"capacity_{c}", 10) for c in DEFAULT_CAPACITY},
            "skills_text": form.text("skills", 4000),
            "shifts_text": form.raw("shifts", 5001),
            "shifts_zone": form.text("shifts_timezone", 64) or "UTC",
        }
        return await _page(
            request,
            agent,
            error=str(exc),
            status_code=error_status(exc),
            kept=("agent", user_id, sent),
        )
    return done(PAGE, "assignment_saved", f"#agent-{user_id}")


ROUTES = [assignment_page, save_inbox, save_agent]
