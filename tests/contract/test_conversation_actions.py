"""An agent works a conversation: assignment, team, escalation, tags, read markers,
and how long the customer has been waiting. Snoozing has its own module."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.desk import build_desk
from tests.support.factories import api_client, make_agent, make_api_inbox, make_team, timeline
from tests.support.inbox import change, reply, row, write

from threadline.actions.errors import ActionError
from threadline.actions.reads import mark_read
from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.core.events import ConversationChanged
from threadline.core.model import ConversationStatus

pytestmark = pytest.mark.anyio


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def changes(events: list[Any]) -> list[tuple[str, ...]]:
    return [e.changes for e in events if isinstance(e, ConversationChanged)]


async def test_assigning_an_agent_who_cannot_see_the_inbox_is_refused(
    container: Container,
) -> None:
    desk = await build_desk(container)
    rosa, viewer = desk.users["restricted"], desk.users["viewer"]
    admin = auth(desk.users["admin"].token)
    async with api_client(container) as client:
        path = "/api/v1/conversations/{}"
        r = await client.patch(
            path.format(desk.sales.conversation_id), json={"assignee_id": rosa.id}, headers=admin
        )
        assert r.status_code == 422
        assert "cannot see this conversation's inbox" in r.json()["detail"]
        r = await client.patch(
            path.format(desk.billing.conversation_id),
            json={"assignee_id": viewer.id},
            headers=admin,
        )
        assert r.status_code == 422
        assert "viewer" in r.json()["detail"]
        r = await client.patch(
            path.format(desk.billing.conversation_id), json={"assignee_id": rosa.id}, headers=admin
        )
        assert r.status_code == 200, r.text
        assert (r.json()["assignee_id"], r.json()["assignee_name"]) == (rosa.id, "Sam Rivera")
        sales = (await client.get(path.format(desk.sales.conversation_id), headers=admin)).json()
    assert sales["assignee_id"] is None


async def test_a_conversation_is_assigned_to_a_team_and_back(container: Container) -> None:
    c = container
    inbox = await make_api_inbox(c)
    sam, token = await make_agent(c)
    team = await make_team(c, "Billing", members=[sam], inboxes=[inbox])
    out = await write(c, inbox, "ana")
    cid = out.conversation_id
    assert cid is not None
    async with api_client(c) as client:
        url = f"/api/v1/conversations/{cid}"
        r = await client.patch(url, json={"team_id": team}, headers=auth(token))
        assert (r.json()["team_id"], r.json()["team_name"]) == (team, "Billing")
        r = await client.patch(url, json={"team_id": 999}, headers=auth(token))
        assert r.status_code == 422
        assert "team 999 does not exist" in r.json()["detail"]
        r = await client.patch(url, json={"unassign_team": True}, headers=auth(token))
        assert (r.json()["team_id"], r.json()["team_name"]) == (None, None)
    entries = [e for e in await timeline(c, out.customer_id or 0) if e["kind"] == "team_assigned"]
    assert [(e["data"]["from"], e["data"]["to"]) for e in entries] == [(None, team), (team, None)]


async def test_each_change_is_on_the_timeline_and_pushed_once_by_name(
    container: Container,
) -> None:
    c = container
    inbox = await make_api_inbox(c)
    sam, _ = await make_agent(c)
    team = await make_team(c, "Billing", inboxes=[inbox])
    out = await write(c, inbox, "ana")
    cid = out.conversation_id
    assert cid is not None
    changed, events = await change(
        c,
        cid,
        sam,
        priority="high",
        escalation_level=2,
        assignee_id=sam,
        team_id=team,
        add_tags=["VIP"],
    )
    assert set(changed) == {"priority", "escalation_level", "assignee", "team", "tags"}
    assert changes(events) == [changed]
    kinds = [e["kind"] for e in await timeline(c, out.customer_id or 0)]
    for kind in ("priority_changed", "escalation_changed", "assigned", "team_assigned"):
        assert kinds.count(kind) == 1, kind
    assert kinds.count("tags_changed") == 1
    # Asking for what is already so changes nothing, and pushes nothing.
    changed, events = await change(c, cid, sam, priority="high", assignee_id=sam)
    assert (changed, changes(events)) == ((), [])


async def test_escalation_level_is_1_or_2(container: Container) -> None:
    c = container
    inbox = await make_api_inbox(c)
    sam, token = await make_agent(c)
    cid = (await write(c, inbox, "ana")).conversation_id
    assert cid is not None
    with pytest.raises(ActionError, match="1 or 2"):
        await change(c, cid, sam, escalation_level=3)
    async with api_client(c) as client:
        url = f"/api/v1/conversations/{cid}"
        assert (
            await client.patch(url, json={"escalation_level": 3}, headers=auth(token))
        ).status_code == 400
        r = await client.patch(url, json={"escalation_level": 2}, headers=auth(token))
    assert r.json()["escalation_level"] == 2


async def test_tags_are_normalized_added_removed_and_bounded(container: Container) -> None:
    c = container
    inbox = await make_api_inbox(c)
    _, token = await make_agent(c)
    cid = (await write(c, inbox, "ana")).conversation_id
    url = f"/api/v1/conversations/{cid}"
    async with api_client(c) as client:

        async def tags(add: list[str], remove: list[str] = []) -> Any:  # noqa: B006
            body = {"tags": {"add": add, "remove": remove}}
            return await client.patch(url, json=body, headers=auth(token))

        r = await tags(["  VIP ", "Refund", "vip"])
        assert r.json()["tags"] == ["refund", "vip"]
        r = await tags(["late  delivery"], ["VIP"])
        assert r.json()["tags"] == ["late delivery", "refund"]
        r = await tags(["no/slashes"])
        assert r.status_code == 422
        assert "letters, digits" in r.json()["detail"]
        r = await tags([f"t{i}" for i in range(19)])  # 2 + 19
        assert r.status_code == 422
        assert "at most 20 tags" in r.json()["detail"]
        assert (await tags(["x" * 101])).status_code == 400  # past the body's bound
        assert (await tags([f"t{i}" for i in range(21)])).status_code == 400
        r = await tags([f"t{i}" for i in range(19)], ["refund"])  # 1 + 19
        assert r.status_code == 200
        assert len(r.json()["tags"]) == 20
        listed = await client.get("/api/v1/conversations?tag=T7", headers=auth(token))
        assert [x["id"] for x in listed.json()] == [cid]
        assert (
            await client.get("/api/v1/conversations?tag=a/b", headers=auth(token))
        ).status_code == 400


async def test_waiting_starts_with_the_customer_and_ends_with_an_agent_reply(
    container: Container, clock: FakeClock
) -> None:
    c = container
    inbox = await make_api_inbox(c)
    sam, _ = await make_agent(c)
    first = clock.now()
    cid = (await write(c, inbox, "ana", "hello?")).conversation_id
    assert cid is not None

    async def waiting() -> Any:
        found = await row(c, cid, sam)
        assert found is not None
        return found["waiting_since"]

    assert await waiting() == first
    clock.advance(minutes=5)
    await write(c, inbox, "ana", "anyone?")
    assert await waiting() == first  # since the first unanswered message
    await reply(c, cid, sam, "checking with the warehouse", note=True)
    assert await waiting() == first  # a note answers nobody
    await reply(c, cid, None, "We are closed; back at 9.")
    assert await waiting() == first  # nor does an auto-reply
    await reply(c, cid, sam, "On it!")
    assert await waiting() is None
    clock.advance(minutes=5)
    again = clock.now()
    await write(c, inbox, "ana", "thanks, one more thing")
    assert await waiting() == again
    await change(c, cid, sam, status=ConversationStatus.RESOLVED)
    assert await waiting() is None


async def test_a_read_marker_clears_unread_until_the_customer_writes_again(
    container: Container, clock: FakeClock
) -> None:
    c = container
    inbox = await make_api_inbox(c)
    sam, _ = await make_agent(c)
    vic, vic_token = await make_agent(c, email="vic@acme.test", role="viewer")
    cid = (await write(c, inbox, "ana")).conversation_id
    assert cid is not None

    async def unread(viewer: int) -> bool:
        found = await row(c, cid, viewer)
        assert found is not None
        return bool(found["unread"])

    assert await unread(sam)
    clock.advance(seconds=1)
    await c.bus.execute(lambda tx: mark_read(tx, cid, sam))
    assert not await unread(sam)
    assert await unread(vic)  # markers are per user
    await reply(c, cid, sam, "Hi Ana")
    assert not await unread(sam)  # our own reply is nothing new to read
    clock.advance(seconds=1)
    await write(c, inbox, "ana", "still there?")
    assert await unread(sam)
    clock.advance(seconds=1)
    await c.bus.execute(lambda tx: mark_read(tx, cid, sam))  # the upsert, a second time
    assert not await unread(sam)
    async with api_client(c) as client:
        # A viewer keeps their own marker: it changes nothing anyone else sees.
        r = await client.post(f"/api/v1/conversations/{cid}/read", headers=auth(vic_token))
        assert r.status_code == 200
        assert r.json() == {"conversation_id": cid, "read_at": "2026-11-02T09:00:03Z"}
        assert (
            await client.post("/api/v1/conversations/999/read", headers=auth(vic_token))
        ).status_code == 404
    assert not await unread(vic)
