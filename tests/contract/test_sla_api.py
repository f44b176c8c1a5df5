"""Admins set the SLA targets and an inbox's calendar over the API and in Settings;
the next conversation is held to them, and what cannot be read is refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from tests.support.factories import (
    api_client,
    deliver_email,
    form_token,
    make_agent,
    make_email,
    make_inbox,
    ui_login,
)

from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.storage.tables import audit_log, conversations

pytestmark = pytest.mark.anyio

API = "/api/v1"
BERLIN = ZoneInfo("Europe/Berlin")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def berlin(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).astimezone(UTC)


async def _first_due(c: Container, conversation_id: int | None) -> datetime | None:
    due: datetime | None = await c.db.read(
        lambda conn: conn.execute(
            sa.select(conversations.c.first_response_due_at).where(
                conversations.c.id == conversation_id
            )
        ).scalar()
    )
    return due


async def test_the_policy_table_lists_the_seeded_norms_and_an_admin_edits_one(
    container: Container, clock: FakeClock
) -> None:
    c = container
    _, admin = await make_agent(c, "ada@acme.test", role="admin")
    _, agent = await make_agent(c, "sam@acme.test", role="agent")
    inbox = await make_inbox(c, "email", "Support", "support@acme.test", {"webhook_secret": "s"})
    async with api_client(c) as client:
        listed = (await client.get(f"{API}/sla-policies", headers=auth(agent))).json()
        by_key = {(p["channel"], p["priority"], p["kind"]): p for p in listed}
        assert by_key["chat", "normal", "first_response"]["seconds"] == 60
        assert by_key["sms", "high", "first_response"]["seconds"] == 900
        assert by_key["email", "normal", "first_response"]["business"] is True
        assert by_key["email", "low", "resolution"]["seconds"] == 48 * 3600
        assert by_key["whatsapp", "normal", "resolution"]["seconds"] == 24 * 3600
        assert by_key["voice", "normal", "callback"]["seconds"] == 7200
        assert ("chat", "normal", "callback") not in by_key

        path = f"{API}/sla-policies/email/normal/first_response"
        body = {"seconds": 1800, "business": False, "warn_percent": 50}
        assert (await client.put(path, json=body, headers=auth(agent))).status_code == 403
        r = await client.put(path, json=body, headers=auth(admin))
        assert r.status_code == 200, r.text
        assert r.json()["seconds"] == 1800
        assert r.json()["updated_at"] is not None

        # Refused: what no policy has, and targets out of bounds.
        bad = await client.put(
            f"{API}/sla-policies/fax/normal/first_response", json=body, headers=auth(admin)
        )
        assert bad.status_code == 404
        bad = await client.put(
            f"{API}/sla-policies/email/normal/lunch", json=body, headers=auth(admin)
        )
        assert bad.status_code == 404
        bad = await client.put(path, json={"seconds": 0}, headers=auth(admin))
        assert bad.status_code == 400
        bad = await client.put(path, json={"seconds": 60, "warn_percent": 101}, headers=auth(admin))
        assert bad.status_code == 400

    clock.set(berlin("2026-11-28 22:00"))  # a Saturday night: calendar time now
    raw, _ = make_email(body="Hello?")
    out = await deliver_email(c, inbox, raw)
    assert await _first_due(c, out.conversation_id) == berlin("2026-11-28 22:30")
    actions = await c.db.read(
        lambda conn: conn.execute(sa.select(audit_log.c.action, audit_log.c.subject)).all()
    )
    assert ("sla_policy.update", "sla_policy:email/normal/first_response") in actions


async def test_an_inbox_calendar_with_public_holidays_moves_due_times(
    container: Container, clock: FakeClock
) -> None:
    c = container
    _, admin = await make_agent(c, "ada@acme.test", role="admin")
    inbox = await make_inbox(c, "email", "Support", "support@acme.test", {"webhook_secret": "s"})
    calendar = {
        "timezone": "Europe/Berlin",
        "days": {
            d: [["09:00", "12:00"], ["13:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
        },
        "country": "de",
        "subdivision": "by",
        "holidays": ["2026-01-07"],
    }
    async with api_client(c) as client:
        r = await client.put(f"{API}/inboxes/{inbox}/calendar", json=calendar, headers=auth(admin))
        assert r.status_code == 200, r.text
        assert (r.json()["country"], r.json()["subdivision"]) == ("DE", "BY")
        got = (await client.get(f"{API}/inboxes/{inbox}/calendar", headers=auth(admin))).json()
        assert got["days"]["mon"] == [["09:00", "12:00"], ["13:00", "17:00"]]
        assert got["days"]["sat"] == []

        for wrong, message in (
            ({**calendar, "country": "XX"}, "unknown country for public holidays: 'XX'"),
            ({**calendar, "subdivision": "ZZ"}, "unknown subdivision 'ZZ' of DE"),
            ({**calendar, "timezone": "Mars/Olympus"}, "unknown time zone"),
            ({**calendar, "days": {"mon": [["17:00", "09:00"]]}}, "overnight spans"),
        ):
            r = await client.put(f"{API}/inboxes/{inbox}/calendar", json=wrong, headers=auth(admin))
            assert r.status_code == 422, r.text
            assert message in r.text
        r = await client.put(f"{API}/inboxes/999999/calendar", json=calendar, headers=auth(admin))
        assert r.status_code == 404

    # Monday 5 January 16:00: 1 h that day; Epiphany (Bavaria) and the 7th (custom) are
    # closed; 3 h from the 8th's morning, with its lunch break.
    clock.set(berlin("2026-01-05 16:00"))
    raw, _ = make_email(body="Invoice question")
    out = await deliver_email(c, inbox, raw)
    assert await _first_due(c, out.conversation_id) == berlin("2026-01-08 12:00")


async def test_settings_pages_edit_a_channels_targets_and_an_inbox_calendar(
    container: Container,
) -> None:
    c = container
    await make_agent(c, "ada@acme.test", role="admin", password="correct horse battery")
    inbox = await make_inbox(c, "email", "Support", "support@acme.test", {"webhook_secret": "s"})
    async with api_client(c) as client:
        await ui_login(client, "ada@acme.test", "correct horse battery")
        page = await client.get("/settings/sla")
        assert page.status_code == 200
        assert 'name="normal.first_response.target" value="4h"' in page.text
        assert 'name="normal.first_response.target" value="1m"' in page.text  # chat
        token = await form_token(client, "/settings/sla")
        r = await client.post(
            "/settings/sla/email",
            data={
                "_csrf_token": token,
                "urgent.first_response.target": "45m",
                "urgent.first_response.business": "on",
                "urgent.first_response.warn": "90",
            },
            follow_redirects=False,
        )
        assert r.status_code == 303
        page = await client.get("/settings/sla")
        assert 'name="urgent.first_response.target" value="45m"' in page.text
        r = await client.post(
            "/settings/sla/email",
            data={
                "_csrf_token": token,
                "urgent.first_response.target": "soon",
                "urgent.first_response.warn": "80",
            },
        )
        assert r.status_code == 422
        assert "a number and a unit" in r.text

        page = await client.get(f"/settings/inboxes/{inbox}/calendar")
        assert page.status_code == 200
        r = await client.post(
            f"/settings/inboxes/{inbox}/calendar",
            data={
                "_csrf_token": token,
                "timezone": "America/New_York",
                "mon": "09:00-12:00, 13:00-17:00",
                "fri": "09:00-15:00",
                "country": "US",
                "subdivision": "NY",
                "holidays": "2026-12-24\n2026-12-31",
            },
            follow_redirects=False,
        )
        assert r.status_code == 303
        page = await client.get(f"/settings/inboxes/{inbox}/calendar")
        assert re.search(r'name="mon"[^>]*value="09:00-12:00, 13:00-17:00"', page.text)
        assert "2026-12-24\n2026-12-31" in page.text
        r = await client.post(
            f"/settings/inboxes/{inbox}/calendar",
            data={"_csrf_token": token, "timezone": "UTC", "country": "US", "subdivision": "XX"},
        )
        assert r.status_code == 422
        assert "unknown subdivision" in r.text
