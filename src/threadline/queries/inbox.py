"""The inbox: a page of conversations in one agent's view, and the sidebar's counts.

Built for 10,000 open conversations: the page query reads only ids and sort
keys along an index; the row details, previews and tags are then read for
those ids alone (queries/inbox_rows.py), so the cost of a page does not grow
with the inbox. ``row_by_id`` gives one row in the same shape, for pushes.

Views: "mine" (assigned to the viewer), "unassigned" (no agent), "all", and
"team:<id>" (assigned to that team). A team view is open to the team's members
and to admins; to anyone else the team is not found (404), like an object out
of scope. Every view shows only conversations in the viewer's inbox scope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.actions.errors import NotFound
from threadline.queries.inbox_rows import inbox_rows
from threadline.queries.scope import Scope
from threadline.storage.tables import conversation_tags, conversations, team_members, teams, users

__all__ = [
    "Cursor",
    "InboxCounts",
    "InboxFilters",
    "InboxPage",
    "Sort",
    "TeamCount",
    "View",
    "inbox_counts",
    "list_inbox",
    "parse_view",
    "row_by_id",
]

Sort = Literal["activity", "waiting", "due"]
# The last row's sort value and id: the page after it starts strictly past it.
# On "waiting" and "due" the value is None for conversations nobody is waiting on
# (sorted last).
Cursor = tuple[datetime | None, int]
_c = conversations.c
MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class View:
    kind: Literal["mine", "unassigned", "all", "team"] = "all"
    team_id: int | None = None


_TEAM_VIEW = re.compile(r"team:([1-9][0-9]{0,17})")


def parse_view(text: str) -> View:
    """``mine``, ``unassigned``, ``all`` or ``team:<id>``; anything else is ValueError."""
    if text in ("mine", "unassigned", "all"):
        return View(text)  # type: ignore[arg-type]
    found = _TEAM_VIEW.fullmatch(text)
    if found is None:
        raise ValueError("view is mine, unassigned, all or team:<id>")
    return View("team", int(found.group(1)))


@dataclass(frozen=True, slots=True)
class InboxFilters:
    """Every filter is ANDed. ``statuses=None`` shows every status.

    ``sla_due_before``: the customer waits for a first or next answer due before this
    time, and the conversation is not paused pending on them (the page passes now for
    "overdue", now + 1 h for "due within an hour").
    """

    statuses: tuple[str, ...] | None = ("open",)
    channel: str | None = None  # the channel of the customer's last message
    priority: str | None = None
    category: str | None = None  # the triage category the conversation has
    tag: str | None = None  # normalized, as core/tags.py stores it
    assignee_id: int | None = None
    unassigned: bool = False
    customer_id: int | None = None
    sla_due_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class TeamCount:
    id: int
    name: str
    count: int


@dataclass(frozen=True, slots=True)
class InboxCounts:
    """Open conversations in scope per view: the sidebar's numbers."""

    mine: int
    unassigned: int
    all: int
    teams: list[TeamCount] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class InboxPage:
    rows: list[dict[str, Any]]
    next_cursor: Cursor | None  # None on the last page
    counts: InboxCounts | None


def list_inbox(
    conn: Connection,
    *,
    scope: Scope,
    viewer_id: int,
    view: View = View(),
    filters: InboxFilters = InboxFilters(),
    sort: Sort = "activity",
    cursor: Cursor | None = None,
    limit: int = 50,
    counts: bool = True,
) -> InboxPage:
    """One page of the view: most recent activity first, longest waiting first, or
    the first answer due soonest first (overdue at the top).

    Raises NotFound for a team view the viewer may not open.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"a page holds 1 to {MAX_PAGE} rows")
    where = _where(conn, scope, viewer_id, view, filters)
    if sort == "activity":
        keys = _by_activity(conn, where, cursor, limit + 1)
    elif sort == "due":
        keys = _ascending(conn, _c.first_response_due_at, where, cursor, limit + 1)
    else:
        keys = _ascending(conn, _c.waiting_since, where, cursor, limit + 1)
    rows = inbox_rows(conn, [k[1] for k in keys[:limit]], viewer_id)
    after = keys[limit - 1] if len(keys) > limit else None
    return InboxPage(
        rows, after, inbox_counts(conn, scope=scope, viewer_id=viewer_id) if counts else None
    )


def row_by_id(
    conn: Connection, conversation_id: int, *, scope: Scope, viewer_id: int
) -> dict[str, Any] | None:
    """One conversation as an inbox row (the shape of ``list_inbox``), if in scope."""
    q = sa.select(_c.inbox_id).where(_c.id == conversation_id)
    found = conn.execute(q).first()
    if found is None or not scope.allows_inbox(found.inbox_id):
        return None
    rows = inbox_rows(conn, [conversation_id], viewer_id)
    return rows[0] if rows else None


def _where(
    conn: Connection, scope: Scope, viewer_id: int, view: View, f: InboxFilters
) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    if (in_scope := scope.conversation_clause()) is not None:
        where.append(in_scope)
    if view.kind == "mine":
        where.append(_c.assignee_id == viewer_id)
    elif view.kind == "unassigned":
        where.append(_c.assignee_id.is_(None))
    elif view.kind == "team":
        assert view.team_id is not None
        if view.team_id not in {t for t, _ in _viewer_teams(conn, viewer_id)}:
            raise NotFound(f"team {view.team_id} not found")
        where.append(_c.team_id == view.team_id)
    if f.statuses is not None:
        statuses = sorted(set(f.statuses))
        where.append(_c.status == statuses[0] if len(statuses) == 1 else _c.status.in_(statuses))
    if f.channel is not None:
        where.append(_c.last_inbound_channel == f.channel)
    if f.priority is not None:
        where.append(_c.priority == f.priority)
    if f.category is not None:
        where.append(_c.category == f.category)
    if f.assignee_id is not None:
        where.append(_c.assignee_id == f.assignee_id)
    if f.unassigned:
        where.append(_c.assignee_id.is_(None))
    if f.customer_id is not None:
        where.append(_c.customer_id == f.customer_id)
    if f.sla_due_before is not None:
        where.append(
            sa.or_(
                _c.first_response_due_at < f.sla_due_before,
                _c.next_response_due_at < f.sla_due_before,
            )
        )
        where.append(_c.paused_at.is_(None))
    if f.tag is not None:
        tagged = sa.select(conversation_tags.c.conversation_id).where(
            conversation_tags.c.conversation_id == _c.id, conversation_tags.c.tag == f.tag
        )
        where.append(sa.exists(tagged.correlate(conversations)))
    return where


def _by_activity(
    conn: Connection, where: list[sa.ColumnElement[bool]], cursor: Cursor | None, n: int
) -> list[Cursor]:
    q = sa.select(_c.last_activity_at, _c.id).where(*where)
    if cursor is not None:
        at, last_id = cursor
        if at is None:
            raise ValueError("this cursor belongs to the waiting sort")
        # A row value: both databases seek the (status, last_activity_at) index to it.
        q = q.where(sa.tuple_(_c.last_activity_at, _c.id) < (at, last_id))
    q = q.order_by(_c.last_activity_at.desc(), _c.id.desc()).limit(n)
    return [(r.last_activity_at, r.id) for r in conn.execute(q)]


def _ascending(
    conn: Connection,
    column: sa.ColumnElement[datetime | None],
    where: list[sa.ColumnElement[bool]],
    cursor: Cursor | None,
    n: int,
) -> list[Cursor]:
    """Smallest ``column`` first (longest waiting, or due soonest), then the rows
    where it is None, by id. Two index-ordered reads rather than one NULLS LAST
    sort, which would read every row to sort it."""
    keys: list[Cursor] = []
    if cursor is None or cursor[0] is not None:
        q = sa.select(column.label("key"), _c.id).where(*where, column.is_not(None))
        if cursor is not None:
            q = q.where(sa.tuple_(column, _c.id) > cursor)
        q = q.order_by(column, _c.id).limit(n)
        keys = [(r.key, r.id) for r in conn.execute(q)]
    if len(keys) < n:
        q = sa.select(_c.id).where(*where, column.is_(None))
        if cursor is not None and cursor[0] is None:
            q = q.where(_c.id > cursor[1])
        q = q.order_by(_c.id).limit(n - len(keys))
        keys += [(None, r.id) for r in conn.execute(q)]
    return keys


def _viewer_teams(conn: Connection, viewer_id: int) -> list[tuple[int, str]]:
    """The teams whose views the viewer may open: every team for an admin, else theirs."""
    role = conn.execute(sa.select(users.c.role).where(users.c.id == viewer_id)).scalar()
    q = sa.select(teams.c.id, teams.c.name).order_by(teams.c.name)
    if role != "admin":
        q = q.join(team_members, team_members.c.team_id == teams.c.id).where(
            team_members.c.user_id == viewer_id
        )
    return [(r.id, r.name) for r in conn.execute(q)]


def inbox_counts(conn: Connection, *, scope: Scope, viewer_id: int) -> InboxCounts:
    """Open conversations in scope: the viewer's, unassigned, all, and per team.

    One grouped read (teams x assignees: a few hundred groups at most) summed here.
    """
    q = sa.select(_c.team_id, _c.assignee_id, sa.func.count().label("n")).where(_c.status == "open")
    if (in_scope := scope.conversation_clause()) is not None:
        q = q.where(in_scope)
    groups = conn.execute(q.group_by(_c.team_id, _c.assignee_id)).all()
    per_team: dict[int, int] = {}
    for g in groups:
        if g.team_id is not None:
            per_team[g.team_id] = per_team.get(g.team_id, 0) + g.n
    return InboxCounts(
        mine=sum(g.n for g in groups if g.assignee_id == viewer_id),
        unassigned=sum(g.n for g in groups if g.assignee_id is None),
        all=sum(g.n for g in groups),
        teams=[
            TeamCount(team_id, name, per_team.get(team_id, 0))
            for team_id, name in _viewer_teams(conn, viewer_id)
        ],
    )
