"""Settings → Assignment as a browser drives it, and the Escalate button on a
conversation: each change is checked where it is felt, in who gets the next
conversation and on the timeline."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator

import pytest
from tests.support.assignment import (
    agent,
    assignee,
    chat,
    chat_inbox,
    configure_inbox,
    queued_reason,
    write,
)
from tests.support.factories import make_api_inbox, make_team, timeline
from tests.support.settings_ui import Browser, audit, signed_in_admin

from threadline.bootstrap import Container
from threadline.queries.assignment import agent_settings, inbox_settings_view

pytestmark = pytest.mark.anyio


@pytest.fixture
async def admin(container: Container, served: str) -> AsyncIterator[Browser]:
    async with signed_in_admin(container, served) as browser:
        yield browser


async def test_an_admin_sets_an_inbox_to_round_robin_and_it_assigns(
    container: Container, admin: Browser
) -> None:
    c = container
    inbox = await make_api_inbox(c)
    ben = await agent(c, "Ben")
    page = await admin.get("/settings/assignment")
    assert page.status_code == 200
    assert f'action="/settings/assignment/inboxes/{inbox}"' in page.text
    saved = await admin.post(
        f"/settings/assignment/inboxes/{inbox}",
        {"strategy": "round_robin", "sticky": "1", "skills": "German, billing"},
    )
    assert saved.status_code == 303
    back = await admin.get(saved.headers["location"])
    assert "Saved: conversations from now on are assigned this way." in back.text
    view = (await c.db.read(lambda conn: inbox_settings_view(conn, [inbox])))[inbox]
    assert view["strategy"] == "round_robin"
    assert view["skills"] == ["billing", "german"]
    assert len(await audit(c, "inbox.assignment")) == 1
    # Only Ben has both skills (the admin, Ada, has none): he gets it.
    await admin.post(
        f"/settings/assignment/agents/{ben}",
        {"skills": "billing, german", "capacity_api": "5", "shifts": ""},
    )
    cid = (await write(c, inbox, "x")).conversation_id
    assert cid is not None
    await c.runner.run_due()
    assert await assignee(c, cid) == ben


async def test_an_admin_sets_shifts_and_capacity_for_an_agent(
    container: Container, admin: Browser
) -> None:
    c = container
    ben = await agent(c, "Ben")
    saved = await admin.post(
        f"/settings/assignment/agents/{ben}",
        {
            "capacity_chat": "2",
            "capacity_email": "",
            "skills": "",
            "shifts": "mon-fri 09:00-17:00 chat voice\nsat 10:00-14:00 email",
            "shifts_timezone": "Europe/Berlin",
        },
    )
    assert saved.status_code == 303
    mine = (await c.db.read(lambda conn: agent_settings(conn, [ben])))[ben]
    assert mine["capacity"] == {"chat": 2}
    assert mine["shifts"]["timezone"] == "Europe/Berlin"
    assert len(mine["shifts"]["spans"]) == 2
    page = (await admin.get("/settings/assignment")).text
    assert "mon,tue,wed,thu,fri 09:00-17:00 chat voice" in page  # shown back as lines


@pytest.mark.parametrize(
    ("form", "message"),
    [
        pytest.param({"shifts": "weekdays 9-5 chat"}, "line 1: not a day", id="shift line"),
        pytest.param(
            {"shifts": "mon 09:00-17:00 chat", "shifts_timezone": "Mars/Base"},
            "unknown time zone",
            id="zone",
        ),
        pytest.param({"capacity_chat": "-1"}, "capacity for chat is a whole number", id="cap"),
        pytest.param({"capacity_chat": "9999"}, "from 0 to 500", id="cap too big"),
    ],
)
async def test_a_bad_agent_form_says_what_is_wrong(
    container: Container, admin: Browser, form: dict[str, str], message: str
) -> None:
    ben = await agent(container, "Ben")
    answer = await admin.post(f"/settings/assignment/agents/{ben}", form)
    assert answer.status_code == 422
    assert message in answer.text
    # What was typed is shown again in Ben's form, to be corrected rather than retyped.
    mine = answer.text.split(f'id="agent-{ben}"', 1)[1].split("</form>", 1)[0]
    for value in form.values():
        assert html.escape(value, quote=False) in mine


async def test_batch_times_are_refused_on_an_inbox_that_is_not_email(
    container: Container, admin: Browser
) -> None:
    inbox = await make_api_inbox(container)
    answer = await admin.post(
        f"/settings/assignment/inboxes/{inbox}",
        {"strategy": "round_robin", "batch_times": "09:00"},
    )
    assert answer.status_code == 422
    assert "batch times are for email inboxes" in answer.text


async def test_a_level_2_team_without_the_inbox_is_refused_on_the_page_with_the_way_out(
    container: Container, admin: Browser
) -> None:
    c = container
    inbox = await make_api_inbox(c)
    experts = await make_team(c, "Experts")  # works no inbox yet
    answer = await admin.post(
        f"/settings/assignment/inboxes/{inbox}",
        {"strategy": "round_robin", "level2_team_id": str(experts), "skills": "german"},
    )
    assert answer.status_code == 422
    assert "team &#39;Experts&#39; does not work the inbox &#39;Acme app&#39;" in answer.text
    assert "add the inbox to the team first (Settings → Teams)" in answer.text
    # The refused form shows what the admin chose, not what is stored.
    form = answer.text.split(f'id="inbox-{inbox}"', 1)[1].split("</form>", 1)[0]
    assert f'<option value="{experts}" selected>Experts</option>' in form
    assert '<option value="round_robin" selected>' in form
    assert 'value="german"' in form
    view = (await c.db.read(lambda conn: inbox_settings_view(conn, [inbox])))[inbox]
    assert view["level2_team_id"] is None


async def test_the_escalate_button_hands_the_conversation_to_the_level_2_team(
    container: Container, admin: Browser
) -> None:
    c = container
    inbox = await make_api_inbox(c)
    await agent(c, "Ana")
    ben = await agent(c, "Ben")
    experts = await make_team(c, "Experts", members=[ben], inboxes=[inbox])
    await admin.post(
        f"/settings/assignment/inboxes/{inbox}",
        {"strategy": "round_robin", "level2_team_id": str(experts)},
    )
    out = await write(c, inbox, "x")
    cid = out.conversation_id
    assert cid is not None
    await c.runner.run_due()
    page = (await admin.get(f"/conversations/{cid}")).text
    assert f'action="/ui/conversations/{cid}/escalate"' in page
    bar = await admin.post(f"/ui/conversations/{cid}/escalate", htmx=True)
    assert bar.status_code == 200
    assert "/escalate" not in bar.text  # at level 2 the button is gone
    await c.runner.run_due()
    assert await assignee(c, cid) == ben
    assert out.customer_id is not None
    said = [e for e in await timeline(c, out.customer_id) if e["kind"] == "assigned"]
    assert said[-1]["data"]["reason"] == "level 2: round robin: Ben (1/20 api conversations)"


async def test_a_waiting_chat_is_assigned_as_soon_as_an_agent_comes_online(
    container: Container, admin: Browser
) -> None:
    c = container
    inbox = await chat_inbox(c)
    await configure_inbox(c, inbox, "round_robin")
    cid = await chat(c, inbox)
    await c.runner.run_due()
    assert await queued_reason(c, cid) == "nobody available: nobody on shift is online for chat"
    # Ada (the admin) opens the workspace: her tab's first beat says she is online.
    beat = await admin.post("/ui/presence", {"tab": "tab-1", "active": "1"})
    assert beat.status_code == 204
    await c.runner.run_due()  # the clock has not moved: no sweep was due but this one
    assert await assignee(c, cid) is not None
    assert await queued_reason(c, cid) is None
