"""The inbox as an agent sees it: views, filters, the row (preview, tags, unread),
the sidebar's counts, and the inbox scope of a restricted agent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support.desk import build_desk
from tests.support.factories import (
    api_client,
    deliver_email,
    make_agent,
    make_api_inbox,
    make_email,
    make_email_inbox,
    make_team,
)
from tests.support.inbox import change, inbox, reply, row, write

from threadline.actions.errors import NotFound
from threadline.actions.reads import mark_read
from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.core.model import ConversationStatus
from threadline.queries.inbox import InboxFilters, View, inbox_counts
from threadline.queries.inbox_rows import PREVIEW_CHARS, inbox_rows
from threadline.queries.scope import load_scope
from threadline.storage.tables import conversations

pytestmark = pytest.mark.anyio


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Floor:
    api: int  # the API inbox
    sam: int  # agent, in Billing
    sam_token: str
    kim: int  # agent, in no team
    ada: int  # admin, in no team
    billing: int  # teams
    sales: int
    ana: int  # Sam's, Billing's
    bo: int  # nobody's, Sales's, tagged vip
    cy: int  # Kim's, urgent, by email
    di: int  # Sam's, resolved


@pytest.fixture
async def floor(container: Container) -> Floor:
    c = container
    api = await make_api_inbox(c)
    email = await make_email_inbox(c)
    sam, sam_token = await make_agent(c, "sam@acme.test", role="agent")
    kim, _ = await make_agent(c, "kim@acme.test", role="agent")
    ada, _ = await make_agent(c, "ada@acme.test", role="admin")
    billing = await make_team(c, "Billing", members=[sam], inboxes=[api, email])
    sales = await make_team(c, "Sales", inboxes=[api])
    ana = (await write(c, api, "ana")).conversation_id
    bo = (await write(c, api, "bo")).conversation_id
    raw, _ = make_email(sender="cy@example.com", subject="Where is my parcel")
    cy = (await deliver_email(c, email, raw)).conversation_id
    di = (await write(c, api, "di")).conversation_id
    assert ana
    assert bo
    assert cy
    assert di
    await change(c, ana, sam, assignee_id=sam, team_id=billing)
    await change(c, bo, sam, team_id=sales, add_tags=["VIP"])
    await change(c, cy, sam, assignee_id=kim, priority="urgent")
    await change(c, di, sam, assignee_id=sam, status=ConversationStatus.RESOLVED)
    return Floor(api, sam, sam_token, kim, ada, billing, sales, ana, bo, cy, di)


async def ids(c: Container, viewer: int, **kw: Any) -> set[int]:
    page = await inbox(c, viewer, counts=False, **kw)
    return {r["id"] for r in page.rows}


async def test_views_show_mine_unassigned_all_and_each_team(
    container: Container, floor: Floor
) -> None:
    c, f = container, floor
    assert await ids(c, f.sam, view=View("mine")) == {f.ana}  # di is resolved
    assert await ids(c, f.sam, view=View("unassigned")) == {f.bo}
    assert await ids(c, f.sam, view=View("all")) == {f.ana, f.bo, f.cy}
    assert await ids(c, f.sam, view=View("team", f.billing)) == {f.ana}
    assert await ids(c, f.ada, view=View("team", f.sales)) == {f.bo}  # admins open any team


async def test_a_team_view_is_not_found_for_anyone_outside_the_team(
    container: Container, floor: Floor
) -> None:
    c, f = container, floor
    with pytest.raises(NotFound):
        await ids(c, f.sam, view=View("team", f.sales))
    with pytest.raises(NotFound):
        await ids(c, f.sam, view=View("team", 999))
    async with api_client(c) as client:
        h = auth(f.sam_token)
        r = await client.get(f"/api/v1/conversations?view=team:{f.sales}", headers=h)
        assert r.status_code == 404
        r = await client.get(f"/api/v1/conversations?view=team:{f.billing}", headers=h)
        assert [x["id"] for x in r.json()] == [f.ana]
        for bad in ("team:0", "team:x", "teams", "team:99999999999999999999"):
            r = await client.get(f"/api/v1/conversations?view={bad}", headers=h)
            assert r.status_code == 400, bad


async def test_filters_narrow_the_view(container: Container, floor: Floor) -> None:
    c, f = container, floor
    every = InboxFilters(statuses=None)
    assert await ids(c, f.sam, filters=every) == {f.ana, f.bo, f.cy, f.di}
    assert await ids(c, f.sam, filters=InboxFilters(statuses=("resolved",))) == {f.di}
    assert await ids(c, f.sam, filters=InboxFilters(statuses=("open", "resolved"))) == {
        f.ana,
        f.bo,
        f.cy,
        f.di,
    }
    assert await ids(c, f.sam, filters=InboxFilters(channel="email")) == {f.cy}
    assert await ids(c, f.sam, filters=InboxFilters(priority="urgent")) == {f.cy}
    assert await ids(c, f.sam, filters=InboxFilters(tag="vip")) == {f.bo}
    assert await ids(c, f.sam, filters=InboxFilters(assignee_id=f.kim)) == {f.cy}
    assert await ids(c, f.sam, view=View("mine"), filters=every) == {f.ana, f.di}
    async with api_client(c) as client:
        h = auth(f.sam_token)

        async def listed(query: str) -> set[int]:
            r = await client.get(f"/api/v1/conversations?{query}", headers=h)
            assert r.status_code == 200, r.text
            return {x["id"] for x in r.json()}

        assert await listed("") == {f.ana, f.bo, f.cy, f.di}  # the API's default: every status
        assert await listed("status=all") == {f.ana, f.bo, f.cy, f.di}
        assert await listed("status=open&view=mine") == {f.ana}
        assert await listed("view=unassigned&tag=VIP") == {f.bo}
        assert await listed("status=open&channel=api&sort=waiting") == {f.ana, f.bo}
        assert (await client.get("/api/v1/conversations?sort=oldest", headers=h)).status_code == 400


async def test_a_row_shows_the_last_message_that_is_not_a_note(
    container: Container, floor: Floor
) -> None:
    c, f = container, floor
    await reply(c, f.ana, f.sam, "Hi Ana,\n\n   your order   shipped today.")
    await reply(c, f.ana, f.sam, "internal: she called twice", note=True)
    ana = await row(c, f.ana, f.sam)
    assert ana is not None
    assert ana["last_message"]["text"] == "Hi Ana, your order shipped today."
    assert (ana["last_message"]["channel"], ana["last_message"]["direction"]) == (
        "api",
        "outbound",
    )
    assert (ana["customer_name"], ana["assignee_name"], ana["team_name"]) == (
        None,
        "Sam Rivera",
        "Billing",
    )
    await write(c, f.api, "bo", "word " * 100)
    bo = await row(c, f.bo, f.sam)
    assert bo is not None
    text = bo["last_message"]["text"]
    assert len(text) == PREVIEW_CHARS
    assert text.endswith("…")
    assert text.startswith("word word")
    assert bo["last_message"]["direction"] == "inbound"
    assert bo["tags"] == ["vip"]
    cy = await row(c, f.cy, f.sam)
    assert cy is not None
    assert cy["customer_name"] == "Ana Souza"  # the email's display name (make_email)
    assert cy["last_message"]["channel"] == "email"


async def test_tags_on_a_row_are_sorted(container: Container, floor: Floor) -> None:
    c, f = container, floor
    await change(c, f.ana, f.sam, add_tags=["zeta", "Alpha", "mid"])
    ana = await row(c, f.ana, f.sam)
    assert ana is not None
    assert ana["tags"] == ["alpha", "mid", "zeta"]


async def test_the_page_and_row_by_id_render_the_same_row(
    container: Container, floor: Floor
) -> None:
    c, f = container, floor
    page = await inbox(c, f.sam, filters=InboxFilters(statuses=None))
    for listed in page.rows:
        assert listed == await row(c, listed["id"], f.sam)


async def test_one_row_reads_as_it_reads_among_others(
    container: Container, floor: Floor, clock: FakeClock
) -> None:
    """One id runs on the driver's cursor (the live push), more in Core: the same rows."""
    c, f = container, floor
    await c.db.write(lambda tx: mark_read(tx, f.ana, f.sam))
    clock.advance(timedelta(minutes=5))
    await write(c, f.api, "bo", "are you there?")  # after Sam read it: unread for him
    await c.db.write(lambda tx: mark_read(tx, f.bo, f.kim))

    async def rows(ids: list[int], viewer: int) -> list[dict[str, Any]]:
        return await c.db.read_small(lambda conn: inbox_rows(conn, ids, viewer))

    every = [f.ana, f.bo, f.cy, f.di]
    for viewer in (f.sam, f.kim):
        assert [(await rows([i], viewer))[0] for i in every] == await rows(every, viewer)
    [ana], [bo], [bo_for_kim] = (
        await rows([f.ana], f.sam),
        await rows([f.bo], f.sam),
        await rows([f.bo], f.kim),
    )
    assert (ana["unread"], bo["unread"], bo_for_kim["unread"]) == (False, True, False)
    assert bo["last_message"]["text"] == "are you there?"
    assert bo["last_message"]["created_at"] == clock.now()
    assert bo["last_activity_at"] == clock.now()
    assert (bo["tags"], bo["team_name"], ana["assignee_name"]) == (["vip"], "Sales", "Sam Rivera")
    assert (ana["sla_state"], ana["sla_clock"]) == ("running", "first_response")
    assert ana["sla_due_at"] is not None
    assert ana["sla_due_at"].utcoffset() == timedelta(0)
    assert ana["urgent"] is False  # a bool on SQLite too
    assert await rows([10_000], f.sam) == []


async def test_counts_are_open_conversations_per_view(container: Container, floor: Floor) -> None:
    c, f = container, floor
    page = await inbox(c, f.sam, view=View("mine"))
    counts = page.counts
    assert counts is not None
    assert (counts.mine, counts.unassigned, counts.all) == (1, 1, 3)
    assert [(t.id, t.name, t.count) for t in counts.teams] == [(f.billing, "Billing", 1)]
    admin = (await inbox(c, f.ada)).counts
    assert admin is not None
    assert (admin.mine, admin.unassigned, admin.all) == (0, 1, 3)
    assert [(t.name, t.count) for t in admin.teams] == [("Billing", 1), ("Sales", 1)]


async def test_a_restricted_agent_sees_only_her_inboxes_in_every_view_and_count(
    container: Container,
) -> None:
    c = container
    desk = await build_desk(c)
    rosa, sam = desk.users["restricted"].id, desk.users["agent"].id
    billing_inboxes = {desk.billing.email_inbox, desk.billing.api_inbox, desk.billing.voice_inbox}
    open_by_inbox = await c.db.read(
        lambda conn: conn.execute(
            sa.select(conversations.c.id, conversations.c.inbox_id).where(
                conversations.c.status == "open"
            )
        ).all()
    )
    hers = {cid for cid, inbox_id in open_by_inbox if inbox_id in billing_inboxes}
    scope = await c.db.read(lambda conn: load_scope(conn, rosa, "agent"))
    await change(c, desk.sales.conversation_id, sam, assignee_id=sam, team_id=desk.billing.team_id)
    await change(c, desk.billing.conversation_id, sam, assignee_id=rosa)

    assert await ids(c, rosa, scope=scope, view=View("all")) == hers
    assert await ids(c, rosa, scope=scope, view=View("mine")) == {desk.billing.conversation_id}
    # The team view holds a Sales conversation now; still not hers to see.
    assert await ids(c, rosa, scope=scope, view=View("team", desk.billing.team_id)) == set()
    with pytest.raises(NotFound):
        await ids(c, rosa, scope=scope, view=View("team", desk.sales.team_id))
    counts = await c.db.read(lambda conn: inbox_counts(conn, scope=scope, viewer_id=rosa))
    assert (counts.mine, counts.all) == (1, len(hers))
    assert [(t.name, t.count) for t in counts.teams] == [("Billing", 0)]
    assert await row(c, desk.sales.conversation_id, rosa, scope) is None
    assert await row(c, desk.billing.conversation_id, rosa, scope) is not None
    async with api_client(c) as client:
        h = auth(desk.users["restricted"].token)
        r = await client.get(f"/api/v1/conversations/{desk.sales.conversation_id}", headers=h)
        assert r.status_code == 404
        r = await client.get("/api/v1/conversations?view=all&status=open", headers=h)
        assert {x["id"] for x in r.json()} == hers
