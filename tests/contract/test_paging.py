"""Every paged list of the API, walked to the end with its cursor: each row once.

Rows are made to share sort values (the fake clock stands still), and on
conversations the activity order is made to differ from the id order, which is
what `before=<id>` on a list ordered by activity got wrong.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support.factories import api_client, deliver_api, make_agent, make_api_inbox
from tests.support.paging import walk

from threadline.actions.receipts import Payload
from threadline.clock import FakeClock
from threadline.storage.tables import tasks

pytestmark = pytest.mark.anyio


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ids(pages: list[list[dict[str, Any]]], key: str = "id") -> list[int]:
    return [row[key] for p in pages for row in p]


async def _messages(c: Any, inbox: int, n: int, *, who: str = "ana", text: str = "hi") -> list[Any]:
    out = []
    for i in range(n):
        body = {"id": f"{who}-{text}-{i}", "customer": {"email": f"{who}@example.com"}}
        out.append(await deliver_api(c, inbox, {**body, "text": f"{text} {i}"}))
    return out


async def test_conversations_walk_every_conversation_once_in_activity_order(
    container: Any, clock: FakeClock
) -> None:
    c = container
    inbox = await make_api_inbox(c)
    _, token = await make_agent(c)
    convs = []
    for i in range(11):  # all at the same instant: ties on last_activity_at
        convs.append((await _messages(c, inbox, 1, who=f"c{i}"))[0].conversation_id)
    clock.advance(minutes=5)
    for i in (1, 4, 7):  # older conversations come back to the top, together
        await _messages(c, inbox, 1, who=f"c{i}", text="again")
    clock.advance(minutes=5)
    await _messages(c, inbox, 1, who="c2", text="later")
    async with api_client(c) as client:
        pages = await walk(client, "/api/v1/conversations", auth(token), limit=3)
        newest_first = (await client.get("/api/v1/conversations", headers=auth(token))).json()
    assert [len(p) for p in pages] == [3, 3, 3, 2]
    assert ids(pages) == [x["id"] for x in newest_first]
    assert sorted(ids(pages)) == sorted(convs)
    expected = [convs[2], convs[7], convs[4], convs[1]]
    expected += [x for x in reversed(convs) if x not in expected]
    assert ids(pages) == expected


async def test_conversations_refuse_before_instead_of_ignoring_it(container: Any) -> None:
    _, token = await make_agent(container)
    async with api_client(container) as client:
        r = await client.get("/api/v1/conversations?before=5", headers=auth(token))
    assert r.status_code == 400
    assert "cursor" in r.json()["detail"]


async def test_customers_walk_every_customer_once(container: Any) -> None:
    c = container
    inbox = await make_api_inbox(c)
    _, token = await make_agent(c)
    made = {(await _messages(c, inbox, 1, who=f"p{i}"))[0].customer_id for i in range(10)}
    async with api_client(c) as client:
        pages = await walk(client, "/api/v1/customers", auth(token), limit=4)
    assert [len(p) for p in pages] == [4, 4, 2]
    assert ids(pages) == sorted(made, reverse=True)


async def test_timeline_walks_every_entry_once(container: Any) -> None:
    c = container
    inbox = await make_api_inbox(c)
    _, token = await make_agent(c)
    customer = (await _messages(c, inbox, 12))[0].customer_id
    async with api_client(c) as client:
        path = f"/api/v1/customers/{customer}/timeline"
        pages = await walk(client, path, auth(token), limit=4)
        everything = (await client.get(path, headers=auth(token), params={"limit": 200})).json()
    assert [len(p) for p in pages] == [4, 4, 4]  # a full last page, and no empty one after it
    assert ids(pages) == [e["id"] for e in everything]
    assert len(set(ids(pages))) == len(everything) >= 12


async def test_messages_walk_every_message_once(container: Any) -> None:
    c = container
    inbox = await make_api_inbox(c)
    _, token = await make_agent(c)
    sent = await _messages(c, inbox, 9)
    async with api_client(c) as client:
        path = f"/api/v1/conversations/{sent[0].conversation_id}/messages"
        pages = await walk(client, path, auth(token), limit=4)
    assert ids(pages) == [o.message_id for o in sent]


async def test_search_walks_every_match_once(container: Any) -> None:
    c = container
    inbox = await make_api_inbox(c)
    _, token = await make_agent(c)
    sent = await _messages(c, inbox, 11, text="kettle")
    await _messages(c, inbox, 3, who="bo", text="toaster")
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    async with api_client(c) as client:
        for _ in range(10):  # search pages each group with the cursor in its body
            query = {"q": "kettle", "limit": 3, **({"cursor": cursor} if cursor else {})}
            r = await client.get("/api/v1/search", params=query, headers=auth(token))
            assert r.status_code == 200, r.text
            pages.append(r.json()["messages"]["hits"])
            if (cursor := r.json()["messages"]["next_cursor"]) is None:
                break
    assert ids(pages, "message_id") == sorted((o.message_id for o in sent), reverse=True)


async def test_receipts_walk_every_receipt_once(container: Any) -> None:
    c = container
    inbox = await make_api_inbox(c)
    _, token = await make_agent(c)
    await _messages(c, inbox, 4)
    for i in range(7):
        await c.bus.ingest_all(Payload(inbox, "api", b"not json %d" % i, {}))
    async with api_client(c) as client:
        quarantined = await walk(client, "/api/v1/receipts", auth(token), limit=3)
        every = await walk(client, "/api/v1/receipts", auth(token), status="all", limit=3)
    assert len(ids(quarantined)) == len(set(ids(quarantined))) == 7
    assert len(ids(every)) == len(set(ids(every))) == 11
    assert ids(every) == sorted(ids(every), reverse=True)


async def test_tasks_walk_every_task_once_soonest_due_first(
    container: Any, clock: FakeClock
) -> None:
    c = container
    inbox = await make_api_inbox(c)
    _, token = await make_agent(c)
    first = (await _messages(c, inbox, 1))[0]
    now = clock.now()
    # Many share a due time, and ids do not follow due times.
    due = [now + timedelta(hours=h) for h in (3, 1, 1, 1, 2, 1, 3, 1, 2, 1, 1)]
    rows = [
        {
            "kind": "callback",
            "conversation_id": first.conversation_id,
            "customer_id": first.customer_id,
            "status": "open",
            "due_at": at,
            "data": {},
            "created_at": now,
        }
        for at in due
    ]
    await c.db.write(lambda tx: tx.conn.execute(sa.insert(tasks), rows))
    async with api_client(c) as client:
        pages = await walk(client, "/api/v1/tasks", auth(token), limit=3)
    got = [(t["due_at"], t["id"]) for p in pages for t in p]
    assert len(got) == len(set(got)) == len(due)
    assert got == sorted(got)


@pytest.mark.parametrize(
    "cursor", ["not base64!", "e30", "WzEsMl0", "WyIyMDI2LTExLTAyVDA5OjAwOjAwIiwxXQ", "x" * 201]
)
async def test_a_cursor_we_did_not_give_out_is_a_400(container: Any, cursor: str) -> None:
    _, token = await make_agent(container)
    async with api_client(container) as client:
        r = await client.get(
            "/api/v1/conversations", params={"cursor": cursor}, headers=auth(token)
        )
    assert r.status_code == 400, r.text
