"""What every settings page shares: admins only, one frame, bounded form fields.

A signed-out browser is sent to sign in; an agent or a viewer gets a 403 page
(a POST from them: a plain 403). Every POST carries the session's CSRF token
(checked before the handler runs, web/sessions.py), goes through an action and
is audited with the admin as ``user:<id>``, as the API does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar, TypeVarTuple

from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.response import Redirect, Template

from threadline.actions.errors import ActionError, Conflict, NotFound
from threadline.storage.db import Tx
from threadline.web.ui.common import (
    Agent,
    Req,
    container,
    page,
    require_signed_in,
    signed_in,
    to_login,
)

__all__ = [
    "NOTICES",
    "SECTIONS",
    "Form",
    "actor",
    "admin_or_answer",
    "admin_view",
    "change_inbox",
    "done",
    "error_status",
    "execute",
    "read_form",
    "require_admin",
    "settings_page",
]

T = TypeVar("T")
MAX_FIELDS = 2_500  # fields in one settings form: a team's checkboxes for the whole staff
MAX_ID_DIGITS = 18  # fits a BIGINT

# ?done=<key> after a change (post, redirect, get): fixed words, nothing reflected.
NOTICES = {
    "lexicon_saved": "Saved: triage uses these lists from the next message.",
    "intake_saved": "Saved: conversations show this checklist from now on.",
    "agent_added": "The agent was added. They can sign in now.",
    "role_changed": "The role was changed; it holds from their next request.",
    "deactivated": "Deactivated: their sessions ended and their tokens stopped working.",
    "reactivated": "Reactivated: they can sign in again.",
    "scope_changed": "Inbox access was changed.",
    "team_added": "The team was created.",
    "team_saved": "The team was saved.",
    "inbox_added": "The inbox was connected. Paste its webhook URL into the provider.",
    "chat_added": "The chat inbox was created. Paste the snippet into your site.",
    "chat_saved": "Saved: the widget shows the change within a minute.",
    "chat_secret_new": "A new identity secret is in force; the old one verifies no more. "
    "Reveal it below and give it to your server.",
    "token_revoked": "The token was revoked; it stops working at once.",
    "profile_saved": "The business profile was saved.",
    "rule_added": "The rule was added; it runs on the next event it listens to.",
    "rule_saved": "The rule was saved as a new version.",
    "rule_enabled": "The rule is on.",
    "rule_disabled": "The rule is off.",
    "rule_moved": "The rules' order was changed.",
    "rule_deleted": "The rule was deleted; the timeline still names its versions.",
    "sla_saved": "The targets were saved; new waits and conversations are held to them.",
    "calendar_saved": "The calendar was saved.",
    "redirect_saved": "Saved: account questions from now on are answered this way.",
    "off_hours_saved": "The off-hours reply was saved.",
    "assignment_saved": "Saved: conversations from now on are assigned this way.",
}
SECTIONS = (
    ("/settings/agents", "Agents"),
    ("/settings/teams", "Teams"),
    ("/settings/inboxes", "Inboxes"),
    ("/settings/rules", "Rules"),
    ("/settings/sla", "Response targets"),
    ("/settings/assignment", "Assignment"),
    ("/settings/tokens", "API tokens"),
    ("/settings/profile", "Business profile"),
    ("/settings/triage", "Triage"),
    ("/settings/intake", "Intake"),
)


def actor(agent: Agent) -> str:
    return f"user:{agent.id}"


async def admin_or_answer(request: Req) -> Agent | Template | Redirect:
    """The signed-in admin, or the answer for anyone else (sign in, or 403)."""
    agent = await signed_in(request)
    if agent is None:
        return to_login(request)
    if not agent.is_admin:
        return await page(request, agent, "ui/settings/forbidden.html", status_code=403)
    return agent


Args = TypeVarTuple("Args")


async def admin_view(
    request: Req, render: Callable[[Req, Agent, *Args], Awaitable[Template]], *args: *Args
) -> Template | Redirect:
    """The GET of a settings page: ``render(request, admin, ...)`` for an admin, and
    for anyone else what admin_or_answer answers. One place for the guard every page
    opens with, so that no page can show itself without it."""
    agent = await admin_or_answer(request)
    if not isinstance(agent, Agent):
        return agent
    return await render(request, agent, *args)


async def require_admin(request: Req) -> Agent:
    """For POSTs: 401 signed out, 403 for anyone but an admin."""
    agent = await require_signed_in(request)
    if not agent.is_admin:
        raise PermissionDeniedException("only admins can change settings")
    return agent


async def settings_page(
    request: Req,
    agent: Agent,
    template: str,
    *,
    error: str | None = None,
    status_code: int = 200,
    **context: Any,
) -> Template:
    notice = NOTICES.get(str(request.query_params.get("done") or ""))
    return await page(
        request,
        agent,
        template,
        sections=SECTIONS,
        notice=None if error else notice,
        error=error,
        status_code=status_code,
        **context,
    )


def error_status(exc: Exception) -> int:
    return 409 if isinstance(exc, Conflict) else 422


async def execute(request: Req, fn: Callable[[Tx], T]) -> T:
    """Run a settings action. What it changes being gone is the 404 page, never a word
    on the form: NotFoundException is no ActionError, so a caller's ``except
    ActionError`` is left with what the form has to say."""
    try:
        return await container(request).bus.execute(fn)
    except NotFound as exc:
        raise NotFoundException(str(exc)) from exc


async def change_inbox(request: Req, change: Callable[[Tx], object]) -> None:
    """Run an action that changes an inbox's settings (as ``execute``), then reload
    the bus's inboxes: webhooks, jobs, the widget and the contact page serve from the
    loaded ones."""
    await execute(request, change)
    await container(request).bus.reload_inboxes()


def done(path: str, key: str, anchor: str = "") -> Redirect:
    """After a change: back to the page (a reload does not post again)."""
    return Redirect(f"{path}?done={key}{anchor}", status_code=303)


class Form:
    """A posted form, read as bounded text; unknown fields are ignored."""

    def __init__(self, values: Mapping[str, list[str]]) -> None:
        self._values = values

    def text(self, name: str, limit: int = 200) -> str:
        values = self._values.get(name) or [""]
        return values[0][: limit + 1].strip()  # one over: the action refuses what is too long

    def raw(self, name: str, limit: int) -> str:
        """As typed, spaces and all (a password)."""
        values = self._values.get(name) or [""]
        return values[0][: limit + 1]

    def flag(self, name: str) -> bool:
        return self.text(name, 5) in ("1", "on", "true")

    def ids(self, name: str, limit: int) -> list[int]:
        raw = self._values.get(name) or []
        if len(raw) > limit:
            raise ActionError(f"at most {limit} {name} in one form")
        return [int(v) for v in raw if v.isdigit() and len(v) <= MAX_ID_DIGITS]

    def as_text(self, limit: int) -> dict[str, str]:
        """Every field's first value (for the connect forms, whose fields vary)."""
        return {k: v[0][: limit + 1] for k, v in self._values.items() if v}


async def read_form(request: Req) -> Form:
    form = await request.form()
    values: dict[str, list[str]] = {}
    for count, (key, value) in enumerate(form.multi_items()):
        if count >= MAX_FIELDS:
            break
        if isinstance(value, str):
            values.setdefault(key, []).append(value)
    return Form(values)
