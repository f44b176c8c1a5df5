"""What an inbox tab shows: its view and filters, parsed from the URL and bounded,
and the one predicate that decides whether a pushed row belongs in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from threadline.core.model import Channel
from threadline.core.triage import Category
from threadline.queries.inbox import InboxFilters, View, parse_view
from threadline.queries.inbox_rows import inbox_rows

__all__ = ["ASCENDING", "CATEGORIES", "SORTS", "STATUSES", "InboxFilter", "load_row", "sort_key"]

STATUSES = ("open", "pending", "snoozed", "resolved", "all")
PRIORITIES = ("low", "normal", "high", "urgent")
CATEGORIES = tuple(c.value for c in Category)
SORTS = ("activity", "waiting", "due")
ASCENDING = ("waiting", "due")  # the sorts whose list runs from the smallest key
SLA_FILTERS = ("overdue", "soon")
SOON = timedelta(hours=1)
_LAST = "~"  # sorts after every ISO timestamp: conversations nobody waits on go last


@dataclass(frozen=True, slots=True)
class InboxFilter:
    view: str = "all"  # mine | unassigned | all | team:<id>
    status: str = "open"
    channel: str | None = None
    priority: str | None = None
    category: str | None = None  # one of core.triage.Category
    tag: str | None = None
    assignee_id: int | None = None
    sort: str = "activity"
    sla: str | None = None  # overdue | soon: a first answer is due (core/sla.py)

    @classmethod
    def parse(cls, q: dict[str, str]) -> InboxFilter:
        """Anything unknown falls back to the default: a URL is a claim, not a command."""
        view = q.get("view", "all")
        if not (view in ("mine", "unassigned", "all") or _team_id(view) is not None):
            view = "all"
        status = q.get("status", "open")
        channel = q.get("channel") or None
        priority = q.get("priority") or None
        category = q.get("category") or None
        tag = (q.get("tag") or "").strip().lower()[:50] or None
        assignee = q.get("assignee") or ""
        sort = q.get("sort", "activity")
        sla = q.get("sla") or None
        return cls(
            view=view,
            status=status if status in STATUSES else "open",
            channel=channel if channel in Channel._value2member_map_ else None,
            priority=priority if priority in PRIORITIES else None,
            category=category if category in CATEGORIES else None,
            tag=tag,
            assignee_id=int(assignee) if assignee.isdigit() and len(assignee) < 19 else None,
            sort=sort if sort in SORTS else "activity",
            sla=sla if sla in SLA_FILTERS else None,
        )

    @property
    def team_id(self) -> int | None:
        return _team_id(self.view)

    def due_before(self, now: datetime) -> datetime | None:
        if self.sla is None:
            return None
        return now + SOON if self.sla == "soon" else now

    def as_query(self, now: datetime) -> tuple[View, InboxFilters]:
        """The same filter, as queries/inbox.py takes it."""
        return parse_view(self.view), InboxFilters(
            sla_due_before=self.due_before(now),
            statuses=None if self.status == "all" else (self.status,),
            channel=self.channel,
            priority=self.priority,
            category=self.category,
            tag=self.tag,
            assignee_id=self.assignee_id,
        )

    def query(self) -> dict[str, str]:
        """The URL parameters that rebuild this filter (links, the stream)."""
        out = {"view": self.view, "status": self.status, "sort": self.sort}
        for key, value in (
            ("channel", self.channel),
            ("priority", self.priority),
            ("category", self.category),
            ("tag", self.tag),
            ("assignee", self.assignee_id),
            ("sla", self.sla),
        ):
            if value is not None:
                out[key] = str(value)
        return out

    def matches(self, row: dict[str, Any], user_id: int, now: datetime) -> bool:
        """Does this conversation belong on this tab's list now?"""
        due_before = self.due_before(now)
        if due_before is not None:
            due = row.get("first_response_due_at") or row.get("next_response_due_at")
            if due is None or due >= due_before or row.get("paused_at") is not None:
                return False
        if self.view == "mine" and row.get("assignee_id") != user_id:
            return False
        if self.view == "unassigned" and row.get("assignee_id") is not None:
            return False
        if self.team_id is not None and row.get("team_id") != self.team_id:
            return False
        if self.status != "all" and row.get("status") != self.status:
            return False
        if self.channel is not None and row.get("last_inbound_channel") != self.channel:
            return False
        if self.priority is not None and row.get("priority") != self.priority:
            return False
        if self.category is not None and row.get("category") != self.category:
            return False
        if self.tag is not None and self.tag not in (row.get("tags") or ()):
            return False
        return self.assignee_id is None or row.get("assignee_id") == self.assignee_id


def _team_id(view: str) -> int | None:
    prefix, _, rest = view.partition(":")
    if prefix == "team" and rest.isdigit() and len(rest) < 19:
        return int(rest)
    return None


def sort_key(row: dict[str, Any], sort: str) -> str:
    """The key the page orders rows by, as text the browser compares when a pushed
    row has to find its place (activity: descending; waiting and due: ascending)."""
    if sort in ASCENDING:
        key = row.get("waiting_since" if sort == "waiting" else "first_response_due_at")
        return f"{key.isoformat()}|{row['id']:012d}" if key else f"{_LAST}|{row['id']:012d}"
    return f"{row['last_activity_at'].isoformat()}|{row['id']:012d}"


def load_row(conn: Connection, conversation_id: int) -> dict[str, Any] | None:
    """One conversation as an inbox row, rendered once for every tab (each tab's
    scope is checked against its ``inbox_id``; ``unread`` is decided per push)."""
    rows = inbox_rows(conn, [conversation_id], viewer_id=0)
    return rows[0] if rows else None
