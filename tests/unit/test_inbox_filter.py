"""The inbox tab's filter: parsed from a URL (a claim, not a command) and applied to
pushed rows exactly as the query applies it to the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from threadline.web.ui.inbox_filter import InboxFilter

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def row(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": 7,
        "status": "open",
        "assignee_id": None,
        "team_id": None,
        "last_inbound_channel": "email",
        "priority": "normal",
        "tags": [],
        "first_response_due_at": None,
        "last_activity_at": NOW,
    }
    return {**base, **kw}


def test_anything_unknown_in_the_url_falls_back_to_the_default() -> None:
    f = InboxFilter.parse(
        {"view": "team:x", "status": "gone", "channel": "fax", "sort": "random", "sla": "1"}
    )
    assert f == InboxFilter()


def test_the_reply_due_filter_keeps_overdue_and_soon_rows_only() -> None:
    overdue = row(first_response_due_at=NOW - timedelta(minutes=1))
    soon = row(first_response_due_at=NOW + timedelta(minutes=40))
    later = row(first_response_due_at=NOW + timedelta(hours=3))
    nobody_waits = row()
    f_overdue = InboxFilter.parse({"sla": "overdue"})
    f_soon = InboxFilter.parse({"sla": "soon"})
    assert [f_overdue.matches(r, 1, NOW) for r in (overdue, soon, later, nobody_waits)] == [
        True,
        False,
        False,
        False,
    ]
    assert [f_soon.matches(r, 1, NOW) for r in (overdue, soon, later, nobody_waits)] == [
        True,
        True,
        False,
        False,
    ]
    assert f_soon.query()["sla"] == "soon"


def test_views_and_filters_decide_where_a_pushed_row_belongs() -> None:
    mine = InboxFilter.parse({"view": "mine"})
    assert mine.matches(row(assignee_id=5), 5, NOW)
    assert not mine.matches(row(assignee_id=6), 5, NOW)
    team = InboxFilter.parse({"view": "team:3", "status": "all", "tag": "VIP"})
    assert team.matches(row(team_id=3, status="resolved", tags=["vip"]), 5, NOW)
    assert not team.matches(row(team_id=3, tags=[]), 5, NOW)


def test_the_category_filter_takes_only_a_known_category_and_keeps_its_rows() -> None:
    assert InboxFilter.parse({"category": "<script>"}).category is None
    f = InboxFilter.parse({"category": "billing"})
    assert f.query()["category"] == "billing"
    assert f.as_query(NOW)[1].category == "billing"
    assert f.matches(row(category="billing"), 1, NOW)
    assert not f.matches(row(category="sales"), 1, NOW)
    assert not f.matches(row(category=None), 1, NOW)
