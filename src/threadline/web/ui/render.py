"""Templates for the workspace, and the fragments that pages and pushes share.

A timeline entry or an inbox row is rendered by one macro (templates/ui/macros.html),
whether the page is being built or the live stream is pushing a change: what an
agent sees after a reload is exactly what was pushed.
"""

from __future__ import annotations

import hashlib
import mimetypes
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment
from litestar import Litestar
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from markupsafe import Markup

from threadline.core.channels import OPAQUE_ADDRESS

__all__ = ["STATIC", "TEMPLATES", "describe", "fragment", "ui_template_config", "warm_templates"]

TEMPLATES = Path(__file__).parent.parent / "templates"
STATIC = Path(__file__).parent.parent / "static"

_STATUS = {"open": "open", "pending": "pending", "snoozed": "snoozed", "resolved": "resolved"}
_CLOCKS = {
    "first_response": "First response",
    "next_response": "Next response",
    "resolution": "Resolution",
    "callback": "Callback",
}


def _span(seconds: float) -> str:
    """A duration as a person says it: 45 s, 15 min, 2 h 5 min, 3 days."""
    s = max(round(seconds), 0)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{round(s / 60)} min"
    if s < 86400:
        h, m = divmod(round(s / 60), 60)
        return f"{h} h {m} min" if m else f"{h} h"
    days = round(s / 86400)
    return "1 day" if days == 1 else f"{days} days"


def _sla(kind: str, d: dict[str, Any]) -> str:
    """An SLA warning or breach (actions/sla_clock.py): how long was left, or that
    the target was missed, and how late the timer ran if a restart held it up."""
    clock = _CLOCKS.get(str(d.get("clock")), "Response")
    try:
        due, at = datetime.fromisoformat(str(d["due_at"])), datetime.fromisoformat(str(d["at"]))
    except (KeyError, ValueError):
        return f"{clock} target missed" if kind == "sla_breached" else f"{clock} due soon"
    if kind == "sla_warning":
        return f"{clock} due in {_span((due - at).total_seconds())}"
    text = f"{clock} target missed: it was due {due.strftime('%Y-%m-%d %H:%M UTC')}"
    late = (at - due).total_seconds()
    return f"{text} (noticed {_span(late)} late)" if late >= 60 else text


@cache
def _fingerprint(name: str) -> str:
    try:
        return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    except OSError:
        return "missing"


def asset(name: str) -> str:
    """A static file's URL with its content hash, so browsers may cache it for good."""
    return f"/static/{name}?v={_fingerprint(name)}"


def _who(people: dict[int, str], user_id: Any) -> str:
    if user_id is None:
        return "Threadline"
    return people.get(user_id, f"agent #{user_id}") if isinstance(user_id, int) else "someone"


def _actor(actor: Any, people: dict[int, str]) -> str:
    """An audit actor ("user:7", "cli", "api") as a person's name where we know it."""
    kind, _, raw = str(actor or "").partition(":")
    if kind == "user" and raw.isdigit():
        return _who(people, int(raw))
    return "Someone" if not actor else str(actor)


def describe(
    entry: dict[str, Any], people: dict[int, str], teams: dict[int, str] | None = None
) -> str:
    """One timeline event in words (escaped by the template like any other text)."""
    d = entry.get("data") or {}
    kind = str(entry["kind"])
    by = _who(people, d.get("by"))
    if kind == "status_changed" and d.get("reason") == "woke":
        return "The snooze ended: the conversation is open again"
    if kind == "status_changed":
        to = _STATUS.get(str(d.get("to")), str(d.get("to")))
        until = f" until {d['until']}" if d.get("until") else ""
        return f"{by} set the status to {to}{until}"
    if kind == "assigned":
        if d.get("to") is None:
            return f"{by} unassigned it"
        why = f" ({d['reason']})" if d.get("reason") else ""
        return f"{by} assigned it to {_who(people, d.get('to'))}{why}"
    if kind == "assignment_waiting":
        return f"Waiting for an agent: {d.get('reason', '')}"
    if kind == "team_assigned":
        if d.get("to") is None:
            return f"{by} took it off its team"
        team = (teams or {}).get(d["to"], f"#{d['to']}")
        return f"{by} assigned it to the team {team}"
    if kind == "priority_changed":
        return f"{by} changed the priority from {d.get('from')} to {d.get('to')}"
    if kind == "escalation_changed":
        return f"{by} set the escalation level to {d.get('to')}"
    if kind in ("tagged", "tags_changed"):
        added = ", ".join(f"#{t}" for t in d.get("added", []))
        removed = ", ".join(f"#{t}" for t in d.get("removed", []))
        parts = [f"added {added}" if added else "", f"removed {removed}" if removed else ""]
        return f"{by} " + " and ".join(p for p in parts if p)
    if kind == "task_opened":
        return "A callback task was opened"
    if kind == "task_done":
        return f"{by} completed the callback task"
    if kind == "customers_merged":
        return f"{_actor(d.get('actor'), people)} merged two customer records"
    if kind == "customers_unmerged":
        return f"{_actor(d.get('actor'), people)} undid a merge of customer records"
    if kind == "attributes_changed":
        return f"{_actor(d.get('actor'), people)} changed the customer's details"
    if kind == "customer_renamed":
        return f"{_actor(d.get('actor'), people)} renamed the customer to {d.get('to', '')}"
    if kind == "merge_suggestion_dismissed":
        return f"{_actor(d.get('actor'), people)} decided two records are different people"
    if kind == "identity_added":
        state = "verified" if d.get("verified") else "claimed"
        return f"Identity added: {str(d.get('identity', '')).replace(':', ' ', 1)} ({state})"
    if kind == "conversation_merged":
        if entry.get("conversation_id") == d.get("target_id"):
            return f"{by} merged conversation #{d.get('source_id')} into this one"
        return f"{by} merged this conversation into #{d.get('target_id')}"
    if kind == "transcript_emailed":
        to = d.get("to", "the visitor")
        if d.get("status") == "failed":
            return f"The chat transcript could not be emailed to {to}: {d.get('error', '')}"
        if d.get("status") == "sent":
            return f"Transcript emailed to {to}"
        return f"Transcript requested by the visitor, to be emailed to {to}"
    if kind == "chat_missed":
        count = len(d.get("alerted") or ())
        agents = "1 agent was" if count == 1 else f"{count} agents were"
        return f"Nobody answered the chat in time: {agents} alerted by email"
    if kind in ("sla_warning", "sla_breached"):
        return _sla(kind, d)
    if kind == "rule_applied":
        rule = f"Rule {d.get('rule', '')} (v{d.get('version', '?')})"
        if d.get("error"):
            return f"{rule} could not do this: {d.get('did', '')}: {d['error']}"
        return f"{rule} {d.get('did', '')}: {d.get('reason', '')}"
    if kind == "redirected":
        if d.get("error"):
            return f"Account question: the redirect could not be sent: {d['error']}"
        return f"Auto-reply: {d.get('reason', 'redirected to a verified channel')}"
    if kind == "redirect_email_sent":
        to = d.get("to", "")
        return f"The customer asked to continue by email: a confirmation link went to {to}"
    if kind == "redirect_proved":
        how = "confirmed their email" if d.get("by") == "email" else "signed in to the chat"
        identity = str(d.get("identity", "")).replace(":", " ", 1)
        linked = "records merged" if d.get("merged") else "identity linked"
        return f"The customer {how}: {identity} is theirs ({linked})"
    if kind == "csat":
        said = f": “{d['comment']}”" if d.get("comment") else ""
        return f"The customer rated the chat {d.get('score')} out of 5{said}"
    if kind == "triage_corrected":
        changes = d.get("changes") or {}
        # in the form's order (PostgreSQL's JSONB keeps no order of its own)
        said = ", ".join(
            f"{field} from {_shown(c.get('from'))} to {_shown(c.get('to'))}"
            for field in ("category", "urgent", "sensitive")
            if isinstance(c := changes.get(field), dict)
        )
        return f"{by} corrected the triage: {said}"
    return kind.replace("_", " ").capitalize()


def _shown(value: Any) -> str:
    """A triage value in words: urgent True -> 'yes'."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _configure(engine: JinjaTemplateEngine) -> None:
    env: Environment = engine.engine
    env.globals["asset"] = asset
    env.globals["describe"] = describe
    env.globals["OPAQUE_ADDRESS"] = frozenset(c.value for c in OPAQUE_ADDRESS)
    env.trim_blocks = True
    env.lstrip_blocks = True


def ui_template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(
        directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=_configure
    )


def warm_templates(app: Litestar) -> int:
    """Compile every template now, and load the MIME table the template responses
    consult, rather than on the first request that needs each: compiling a page took
    60–90 ms of the event loop, and the first sign-ins after a start stalled every
    other request (bench/hostile.py) behind it. Returns how many were compiled."""
    mimetypes.init()
    engine = app.template_engine
    assert isinstance(engine, JinjaTemplateEngine)
    env: Environment = engine.engine
    names = env.list_templates(extensions=("html", "txt"))
    for name in names:
        env.get_template(name)
    return len(names)


def fragment(app: Litestar, macro: str, *args: Any, **kwargs: Any) -> str:
    """Call one macro of ui/macros.html: the same markup the pages include."""
    engine = app.template_engine
    assert isinstance(engine, JinjaTemplateEngine)
    module: Any = engine.engine.get_template("ui/macros.html").module
    out: Markup = getattr(module, macro)(*args, **kwargs)
    return str(out).strip()
