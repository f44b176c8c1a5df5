"""Settings: the response and resolution targets per channel and priority, and an
inbox's business calendar (hours, split shifts, public and custom holidays) with
what it tells customers: the off-hours reply and its place on the contact page."""

from __future__ import annotations

import re
from typing import Any

from litestar import get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from threadline.actions.errors import ActionError
from threadline.actions.off_hours import set_off_hours_reply
from threadline.actions.sla_policies import check_policy_key, set_inbox_calendar, set_policy
from threadline.core.hours import DAYS, MAX_HOLIDAYS
from threadline.core.model import Channel
from threadline.core.off_hours import (
    DEFAULT_TEXT,
    MAX_TEXT,
    MAX_URL,
    PLACEHOLDERS,
    read_off_hours,
)
from threadline.core.sla import PRIORITIES, Kind
from threadline.queries.sla_policies import inbox_calendar, list_policies
from threadline.storage.db import Tx
from threadline.web.api.params import Id
from threadline.web.ui.common import Agent, Req, container
from threadline.web.ui.settings_common import (
    Form,
    actor,
    admin_view,
    change_inbox,
    done,
    error_status,
    execute,
    read_form,
    require_admin,
    settings_page,
)

__all__ = ["ROUTES", "format_duration", "parse_duration"]

PAGE = "/settings/sla"
_DURATION = re.compile(r"^\s*(\d{1,7})\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int:
    """``90s``, ``15m``, ``4h`` or ``2d`` as seconds. Raises ActionError."""
    match = _DURATION.match(text.lower())
    if match is None:
        raise ActionError(f"a target is a number and a unit (s, m, h or d), got {text[:20]!r}")
    return int(match[1]) * _UNITS[match[2]]


def format_duration(seconds: int) -> str:
    for unit in ("d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def _table() -> Any:
    def build(conn: Any) -> dict[str, Any]:
        by_channel: dict[str, list[dict[str, Any]]] = {}
        for p in list_policies(conn):
            by_channel.setdefault(p["channel"], []).append(
                {**p, "target": format_duration(p["seconds"])}
            )
        return {"channels": by_channel, "priorities": PRIORITIES}

    return build


async def _sla(
    request: Req, agent: Agent, *, error: str | None = None, status_code: int = 200
) -> Template:
    screen = await container(request).db.read(_table())
    return await settings_page(
        request, agent, "ui/settings/sla.html", error=error, status_code=status_code, **screen
    )


@get(PAGE, include_in_schema=False)
async def sla_page(request: Req) -> Template | Redirect:
    return await admin_view(request, _sla)


@post(f"{PAGE}/{{channel:str}}", include_in_schema=False, status_code=200)
async def save_channel(request: Req, channel: FromPath[str]) -> Template | Redirect:
    """Every target of one channel: ``<priority>.<kind>.target`` (``4h``), ``.business``
    (a checkbox) and ``.warn`` (percent), for the rows the page showed."""
    agent = await require_admin(request)
    if channel not in Channel.__members__.values():
        raise NotFoundException(f"no channel {channel[:20]!r}")
    form = await read_form(request)
    actor_id = agent.id
    try:
        rows = _rows(form, channel)

        def save(tx: Tx) -> None:
            for priority, kind, seconds, business, warn in rows:
                set_policy(
                    tx,
                    channel=channel,
                    priority=priority,
                    kind=kind,
                    seconds=seconds,
                    business=business,
                    warn_percent=warn,
                    actor_id=actor_id,
                )

        await execute(request, save)
    except ActionError as exc:
        return await _sla(request, agent, error=str(exc), status_code=error_status(exc))
    return done(PAGE, "sla_saved", f"#sla-{channel}")


def _rows(form: Form, channel: str) -> list[tuple[str, str, int, bool, int]]:
    rows = []
    for priority in PRIORITIES:
        for kind in Kind:
            key = f"{priority}.{kind.value}"
            target = form.text(f"{key}.target", 20)
            if not target:
                continue  # not on the page: this channel has no such target
            check_policy_key(channel, priority, kind.value)
            warn = form.text(f"{key}.warn", 3)
            if not warn.isdigit():
                raise ActionError(f"{priority} {kind.value}: the warning is a percent, 1 to 100")
            business = form.flag(f"{key}.business")
            rows.append((priority, kind.value, parse_duration(target), business, int(warn)))
    return rows


# -- an inbox's calendar -------------------------------------------------------------
CALENDAR = "/settings/inboxes/{inbox_id:int}/calendar"
_SPAN = re.compile(r"^(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})$")


def _calendar_form(form: Form) -> dict[str, Any]:
    """The calendar as the form has it: ``mon`` … ``sun`` as ``09:00-12:00, 13:00-17:00``
    (empty: closed), holidays one date a line. Raises ActionError."""
    days: dict[str, list[list[str]]] = {}
    for day in DAYS:
        spans = []
        for part in filter(None, (p.strip() for p in form.text(day, 300).split(","))):
            match = _SPAN.match(part)
            if match is None:
                raise ActionError(f"{day}: write hours as 09:00-17:00, got {part[:20]!r}")
            spans.append([match[1], match[2]])
        days[day] = spans
    holidays = form.raw("holidays", 12 * MAX_HOLIDAYS).split()
    hours: dict[str, Any] = {"timezone": form.text("timezone", 64) or "UTC", "days": days}
    if holidays:
        hours["holidays"] = holidays
    if form.text("country", 8):
        hours["country"] = form.text("country", 8)
    if form.text("subdivision", 32):
        hours["subdivision"] = form.text("subdivision", 32)
    return hours


async def _calendar(
    request: Req,
    agent: Agent,
    inbox_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
    typed: dict[str, Any] | None = None,
    reply_typed: dict[str, Any] | None = None,
) -> Template:
    c = container(request)
    inbox = next((i for i in await c.bus.all_inboxes() if i.id == inbox_id), None)
    found = await c.db.read(lambda conn: inbox_calendar(conn, inbox_id))
    if inbox is None or found is None:
        raise NotFoundException(f"inbox {inbox_id} not found")
    shown = typed or found
    days = shown.get("days") or {}
    return await settings_page(
        request,
        agent,
        "ui/settings/calendar.html",
        error=error,
        status_code=status_code,
        inbox=inbox,
        calendar=shown,
        day_names=DAYS,
        day_text={
            d: ", ".join(f"{a}-{b}" for a, b in days.get(d, [])) if days else "00:00-24:00"
            for d in DAYS
        },
        reply=reply_typed
        or {
            **read_off_hours(inbox.config).as_config(),
            "contact_page": inbox.config.get("contact_page") is not False,
        },
        placeholders=PLACEHOLDERS,
        default_text=DEFAULT_TEXT,
        max_text=MAX_TEXT,
        max_url=MAX_URL,
    )


@get(CALENDAR, include_in_schema=False)
async def calendar_page(request: Req, inbox_id: Id) -> Template | Redirect:
    return await admin_view(request, _calendar, inbox_id)


@post(CALENDAR, include_in_schema=False, status_code=200)
async def save_calendar(request: Req, inbox_id: Id) -> Template | Redirect:
    agent = await require_admin(request)
    form = await read_form(request)
    hours: dict[str, Any] = {}
    try:
        hours = _calendar_form(form)
        who = actor(agent)
        # is_open and the widget read the cached inboxes
        await change_inbox(request, lambda tx: set_inbox_calendar(tx, inbox_id, hours, actor=who))
    except ActionError as exc:
        return await _calendar(
            request, agent, inbox_id, error=str(exc), status_code=error_status(exc), typed=hours
        )
    return done(f"/settings/inboxes/{inbox_id}/calendar", "calendar_saved")


# -- an inbox's off-hours reply and its place on the contact page ----------------------
OFF_HOURS = "/settings/inboxes/{inbox_id:int}/off-hours"


@post(OFF_HOURS, include_in_schema=False, status_code=200)
async def save_off_hours(request: Req, inbox_id: Id) -> Template | Redirect:
    """On or off, the self-help link, the text (empty: the default), and whether
    the public contact page lists the inbox."""
    agent = await require_admin(request)
    form = await read_form(request)
    raw = {
        "enabled": form.flag("enabled"),
        "help_url": form.text("help_url", MAX_URL),
        "text": form.raw("text", MAX_TEXT).strip(),
    }
    listed = form.flag("contact_page")
    try:
        who = actor(agent)
        # the contact page reads the cached inboxes
        await change_inbox(
            request,
            lambda tx: set_off_hours_reply(tx, inbox_id, raw, contact_page=listed, actor=who),
        )
    except ActionError as exc:
        return await _calendar(
            request,
            agent,
            inbox_id,
            error=str(exc),
            status_code=error_status(exc),
            reply_typed={**raw, "contact_page": listed},
        )
    return done(f"/settings/inboxes/{inbox_id}/calendar", "off_hours_saved", "#off-hours")


ROUTES = [sla_page, save_channel, calendar_page, save_calendar, save_off_hours]
