"""The live stream over a real server: what each tab receives, in scope, resumed.

Each test reads the Server-Sent Events a browser would, with httpx, from the
whole app on a real uvicorn (``served``), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from tests.support.desk import Desk, Side, build_desk
from tests.support.factories import deliver_email, make_email
from tests.support.ui import sign_in

from threadline.actions.conversations import update_conversation
from threadline.actions.triage import correct_triage
from threadline.bootstrap import Container

pytestmark = pytest.mark.anyio


@dataclass
class Event:
    id: int | None
    name: str
    data: str


class Stream:
    """One tab's stream: events as they come, parsed as EventSource does."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def next(self, timeout: float = 5.0) -> Event:
        async def read() -> Event:
            fields: dict[str, list[str]] = {}
            async for line in self._lines:
                if line == "":
                    if "event" in fields or "data" in fields:
                        raw_id = fields.get("id", [""])[0]
                        return Event(
                            int(raw_id) if raw_id else None,
                            fields.get("event", ["message"])[0],
                            "\n".join(fields.get("data", [])),
                        )
                    fields = {}
                    continue
                if line.startswith(":"):
                    continue
                name, _, value = line.partition(":")
                fields.setdefault(name, []).append(value.removeprefix(" "))
            raise EOFError("the stream ended")

        return await asyncio.wait_for(read(), timeout)

    async def until(self, name: str, contains: str = "", timeout: float = 5.0) -> Event:
        while True:
            event = await self.next(timeout)
            if event.name == name and contains in event.data:
                return event


@asynccontextmanager
async def _agent(url: str, email: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        answer = await sign_in(client, email, "correct horse battery staple")
        assert answer.status_code in (302, 303), answer.text
        yield client


@asynccontextmanager
async def _stream(client: httpx.AsyncClient, query: str, **headers: str) -> AsyncIterator[Stream]:
    async with client.stream("GET", f"/ui/stream?{query}", headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        yield Stream(response)


def _csrf(client: httpx.AsyncClient) -> str:
    return str(client.cookies.get("tl_csrf"))


_BILLING: list[int] = []


@pytest.fixture
async def desk(container: Container) -> Desk:
    built = await build_desk(container)
    _BILLING[:] = [built.billing.team_id]
    return built


async def _email(c: Container, side: Side, sender: str, subject: str) -> None:
    address = "billing@acme.test" if side.team_id == _BILLING[0] else "sales@acme.test"
    raw, _ = make_email(sender=sender, subject=subject, body=subject, to=address)
    await deliver_email(c, side.email_inbox, raw, rcpt_tos=[address])


async def test_an_inbox_tab_receives_a_new_conversation_row_rendered_as_the_page_renders_it(
    container: Container, served: str, desk: Desk
) -> None:
    async with (
        _agent(served, desk.users["admin"].email) as client,
        _stream(client, "inbox=1&view=all") as tab,
    ):
        await asyncio.sleep(0.2)
        await _email(container, desk.billing, "zoe@example.com", "Broken zipper")
        row = await tab.until("row", "Broken zipper")
        page = await client.get("/inbox?view=all")
        pushed = re.search(r'<li class="row[^"]*" id="(c-\d+)"', row.data)
        assert pushed is not None
        assert f'id="{pushed[1]}"' in page.text


async def test_a_restricted_agents_stream_carries_nothing_from_other_inboxes(
    container: Container, served: str, desk: Desk
) -> None:
    async with (
        _agent(served, desk.users["restricted"].email) as rosa,
        _stream(rosa, "inbox=1&view=all") as tab,
    ):
        await asyncio.sleep(0.2)
        await _email(container, desk.sales, "yan@example.com", "Sales secret")
        await _email(container, desk.billing, "xia@example.com", "Billing question")
        # Billing's row arrives; Sales's, published first, never did.
        seen = []
        while True:
            event = await tab.next()
            seen.append(event.data)
            if "Billing question" in event.data:
                break
        assert not any("Sales secret" in d for d in seen)


async def test_a_restricted_agent_cannot_subscribe_to_another_inboxs_conversation(
    container: Container, served: str, desk: Desk
) -> None:
    async with _agent(served, desk.users["restricted"].email) as rosa:
        answer = await rosa.get(f"/ui/stream?conversation={desk.sales.conversation_id}")
        assert answer.status_code == 404


async def test_a_reconnecting_tab_gets_what_it_missed_from_last_event_id(
    container: Container, served: str, desk: Desk
) -> None:
    async with _agent(served, desk.users["admin"].email) as client:
        async with _stream(client, "inbox=1&view=all") as tab:
            await asyncio.sleep(0.2)
            await _email(container, desk.billing, "wu@example.com", "First one")
            first = await tab.until("row", "First one")
        # Offline: these happen while the tab is away.
        await _email(container, desk.billing, "vic@example.com", "While away")
        assert first.id is not None
        async with _stream(client, "inbox=1&view=all", **{"Last-Event-ID": str(first.id)}) as tab:
            missed = await tab.until("row", "While away")
            assert missed.id is not None
            assert missed.id > first.id


async def test_two_agents_on_one_conversation_see_who_views_and_who_types(
    container: Container, served: str, desk: Desk
) -> None:
    conversation = desk.billing.conversation_id
    async with (
        _agent(served, desk.users["admin"].email) as admin,
        _agent(served, desk.users["restricted"].email) as rosa,
        _stream(admin, f"conversation={conversation}") as tab,
    ):
        await asyncio.sleep(0.2)
        beat = {"tab": "rosa-tab-1", "active": "1", "conversation": str(conversation)}
        answer = await rosa.post(
            "/ui/presence", data={**beat, "typing": "0"}, headers={"x-csrftoken": _csrf(rosa)}
        )
        assert answer.status_code == 204, answer.text
        await tab.until("fragment", "is viewing")
        await rosa.post(
            "/ui/presence", data={**beat, "typing": "1"}, headers={"x-csrftoken": _csrf(rosa)}
        )
        await tab.until("fragment", "is typing")


async def test_an_agent_is_notified_on_their_inbox_tab_when_a_conversation_is_assigned_to_them(
    container: Container, served: str, desk: Desk
) -> None:
    agent = desk.users["agent"]
    async with (
        _agent(served, agent.email) as client,
        _stream(client, "inbox=1&view=mine") as tab,
    ):
        await asyncio.sleep(0.2)
        await container.bus.execute(
            lambda tx: update_conversation(
                tx, desk.billing.conversation_id, actor_id=None, assignee_id=agent.id
            )
        )
        got: dict[str, Event] = {}
        while not {"notify", "row"} <= got.keys():
            event = await tab.next()
            got[event.name] = event
        notice = json.loads(got["notify"].data)
        assert notice["title"].startswith("Assigned to you")
        assert notice["url"] == f"/conversations/{desk.billing.conversation_id}"
        # and the row joins the tab's "Mine" view
        assert f'id="c-{desk.billing.conversation_id}"' in got["row"].data


async def test_a_customer_message_redraws_the_open_conversations_head_with_its_triage(
    container: Container, served: str, desk: Desk
) -> None:
    to = "billing@acme.test"
    raw, _ = make_email(sender="ida@example.com", subject="Question", body="hello", to=to)
    out = await deliver_email(container, desk.billing.email_inbox, raw, rcpt_tos=[to])
    async with (
        _agent(served, desk.users["admin"].email) as client,
        _stream(client, f"conversation={out.conversation_id}") as tab,
    ):
        await asyncio.sleep(0.2)
        raw, _ = make_email(
            sender="ida@example.com", subject="Re: Question", body="my card was declined", to=to
        )
        again = await deliver_email(container, desk.billing.email_inbox, raw, rcpt_tos=[to])
        assert again.conversation_id == out.conversation_id
        await tab.until("refresh", "convo-head")
        head = await client.get(f"/ui/conversations/{out.conversation_id}/head")
    assert '<span class="chip cat">Billing</span>' in head.text
    assert '<span class="chip urgent">Urgent</span>' in head.text


async def test_an_agents_triage_correction_redraws_the_row_with_its_chips(
    container: Container, served: str, desk: Desk
) -> None:
    cid = desk.billing.conversation_id
    async with (
        _agent(served, desk.users["admin"].email) as client,
        _stream(client, "inbox=1&view=all&status=all") as tab,
    ):
        await asyncio.sleep(0.2)
        await container.bus.execute(
            lambda tx: correct_triage(
                tx, cid, actor_id=desk.users["agent"].id, category="sales", urgent=True
            )
        )
        row = await tab.until("row", f'id="c-{cid}"')
    assert '<span class="chip cat" data-triage="category">Sales</span>' in row.data
    assert 'data-triage="urgent"' in row.data
