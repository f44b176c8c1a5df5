"""The assignment settings and escalation over the REST API: what is stored is what
is read back, and bad input is refused with the reason."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.assignment import agent, assignee, write
from tests.support.factories import api_client, make_agent, make_api_inbox, make_inbox, make_team

from threadline.bootstrap import Container

pytestmark = pytest.mark.anyio

API = "/api/v1"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


SHIFTS: dict[str, Any] = {
    "timezone": "Europe/Berlin",
    "spans": [
        {"days": ["mon", "tue"], "start": "22:00", "end": "06:00", "channels": ["chat", "voice"]}
    ],
}


async def test_an_agents_settings_are_stored_and_read_back(container: Container) -> None:
    _, token = await make_agent(container)
    ben = await agent(container, "Ben")
    body = {"capacity": {"chat": 2, "email": 30}, "skills": ["German", "billing"], "shifts": SHIFTS}
    async with api_client(container) as client:
        put = await client.put(f"{API}/agents/{ben}/assignment", json=body, headers=auth(token))
        got = await client.get(f"{API}/agents/{ben}/assignment", headers=auth(token))
    assert put.status_code == 200
    assert got.json() == {
        "user_id": ben,
        "capacity": {"chat": 2, "email": 30},
        "skills": ["billing", "german"],
        "shifts": SHIFTS,
    }


async def test_an_inboxs_settings_are_stored_and_read_back(container: Container) -> None:
    c = container
    _, token = await make_agent(c)
    inbox = await make_api_inbox(c)
    team = await make_team(c, "Experts", inboxes=[inbox])
    async with api_client(c) as client:
        before = await client.get(f"{API}/inboxes/{inbox}/assignment", headers=auth(token))
        body = {"strategy": "load_balanced", "sticky": False, "level2_team_id": team}
        put = await client.put(f"{API}/inboxes/{inbox}/assignment", json=body, headers=auth(token))
    assert before.json()["strategy"] == "manual"  # never set: assigned by hand
    assert put.status_code == 200
    assert put.json() == {
        "inbox_id": inbox,
        "strategy": "load_balanced",
        "sticky": False,
        "skills": [],
        "level2_team_id": team,
        "batch_times": [],
        "batch_timezone": "UTC",
    }


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        pytest.param({"capacity": {"fax": 1}}, 400, "fax", id="unknown channel"),
        pytest.param({"capacity": {"chat": 501}}, 422, "from 0 to 500", id="capacity"),
        pytest.param({"skills": ["a,b"]}, 422, "without commas", id="skill"),
        pytest.param(
            {"shifts": {"spans": [{**SHIFTS["spans"][0], "start": "25:00"}]}},
            422,
            "span 1: not a time of day",
            id="shift time",
        ),
        pytest.param(
            {"shifts": {"timezone": "Mars/Base", "spans": []}}, 422, "unknown time zone", id="zone"
        ),
        pytest.param({"extra": 1}, 400, "extra", id="unknown field"),
    ],
)
async def test_bad_agent_settings_are_refused_with_the_reason(
    container: Container, body: dict[str, Any], status: int, message: str
) -> None:
    _, token = await make_agent(container)
    ben = await agent(container, "Ben")
    async with api_client(container) as client:
        r = await client.put(f"{API}/agents/{ben}/assignment", json=body, headers=auth(token))
    assert r.status_code == status
    assert message in r.text


async def test_settings_of_someone_or_something_missing_are_not_found(
    container: Container,
) -> None:
    _, token = await make_agent(container)
    async with api_client(container) as client:
        agent_404 = await client.get(f"{API}/agents/9999/assignment", headers=auth(token))
        inbox_404 = await client.put(
            f"{API}/inboxes/9999/assignment", json={"strategy": "manual"}, headers=auth(token)
        )
    assert (agent_404.status_code, inbox_404.status_code) == (404, 404)


async def test_an_unknown_level_2_team_is_refused(container: Container) -> None:
    _, token = await make_agent(container)
    inbox = await make_api_inbox(container)
    body = {"strategy": "round_robin", "level2_team_id": 4242}
    async with api_client(container) as client:
        r = await client.put(f"{API}/inboxes/{inbox}/assignment", json=body, headers=auth(token))
    assert r.status_code == 422
    assert "team 4242 does not exist" in r.text


async def test_a_level_2_team_that_does_not_work_the_inbox_is_refused(
    container: Container,
) -> None:
    """Scope is by the teams' inboxes: its agents could not see what is escalated."""
    c = container
    _, token = await make_agent(c)
    inbox = await make_api_inbox(c)
    other = await make_inbox(c, "api", "Other app", "other-app", {})
    team = await make_team(c, "Experts", inboxes=[other])
    body = {"strategy": "round_robin", "level2_team_id": team}
    async with api_client(c) as client:
        r = await client.put(f"{API}/inboxes/{inbox}/assignment", json=body, headers=auth(token))
        got = await client.get(f"{API}/inboxes/{inbox}/assignment", headers=auth(token))
    assert r.status_code == 422
    assert "team 'Experts' does not work the inbox 'Acme app'" in r.text
    assert got.json()["level2_team_id"] is None


async def test_a_level_2_team_keeps_its_inbox_until_another_team_takes_level_2(
    container: Container,
) -> None:
    c = container
    _, token = await make_agent(c, role="admin")
    inbox = await make_api_inbox(c)
    experts = await make_team(c, "Experts", inboxes=[inbox])
    seniors = await make_team(c, "Seniors", inboxes=[inbox])
    level2 = {"strategy": "round_robin", "level2_team_id": experts}
    drop = {"inbox_ids": []}
    async with api_client(c) as client:
        await client.put(f"{API}/inboxes/{inbox}/assignment", json=level2, headers=auth(token))
        refused = await client.put(f"{API}/teams/{experts}/inboxes", json=drop, headers=auth(token))
        teams = (await client.get(f"{API}/teams", headers=auth(token))).json()
        level2["level2_team_id"] = seniors
        await client.put(f"{API}/inboxes/{inbox}/assignment", json=level2, headers=auth(token))
        dropped = await client.put(f"{API}/teams/{experts}/inboxes", json=drop, headers=auth(token))
    assert refused.status_code == 422
    assert "the team is the level-2 team of" in refused.text
    assert next(t for t in teams if t["id"] == experts)["inbox_ids"] == [inbox]
    assert dropped.status_code == 200


async def test_escalating_over_the_api_reassigns_within_the_level_2_team(
    container: Container,
) -> None:
    c = container
    sam, token = await make_agent(c)
    inbox = await make_api_inbox(c)
    ben = await agent(c, "Ben")
    team = await make_team(c, "Experts", members=[ben], inboxes=[inbox])
    async with api_client(c) as client:
        body = {"strategy": "round_robin", "level2_team_id": team}
        await client.put(f"{API}/inboxes/{inbox}/assignment", json=body, headers=auth(token))
        cid = (await write(c, inbox, "x")).conversation_id
        await c.runner.run_due()
        assert await assignee(c, cid) in (sam, ben)
        r = await client.post(f"{API}/conversations/{cid}/escalate", headers=auth(token))
        assert r.status_code == 200
        assert r.json()["escalation_level"] == 2
        assert r.json()["team_id"] == team
        await c.runner.run_due()
        again = await client.post(f"{API}/conversations/{cid}/escalate", headers=auth(token))
    assert await assignee(c, cid) == ben
    assert again.status_code == 422
    assert "already at level 2" in again.text
