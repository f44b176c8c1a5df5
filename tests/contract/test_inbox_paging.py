"""The inbox walked page by page in every sort: every conversation once, in order.

The fake clock stands still while conversations are made, so many share their
sort value; some customers are answered (nobody waits on them: they sort last
by waiting time) and some write again later.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support.factories import api_client, make_agent, make_api_inbox
from tests.support.inbox import inbox, reply, write
from tests.support.paging import walk

from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.queries.inbox import Cursor, Sort
from threadline.storage.tables import conversations

pytestmark = pytest.mark.anyio

FAR = datetime.max.replace(tzinfo=UTC)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _busy_inbox(c: Container, clock: FakeClock) -> tuple[int, str]:
    api = await make_api_inbox(c)
    sam, token = await make_agent(c)
    convs = [(await write(c, api, f"c{i}")).conversation_id for i in range(12)]
    clock.advance(minutes=5)
    for i in (1, 4, 7, 10):
        await write(c, api, f"c{i}", "again")
    for i in (2, 5, 8, 11):
        cid = convs[i]
        assert cid is not None
        await reply(c, cid, sam, "answered")
    clock.advance(minutes=5)
    await write(c, api, "c5", "one more thing")
    return sam, token


async def _expected(c: Container, sort: Sort) -> list[int]:
    rows = await c.db.read(
        lambda conn: conn.execute(
            sa.select(
                conversations.c.id,
                conversations.c.last_activity_at,
                conversations.c.waiting_since,
                conversations.c.first_response_due_at,
            )
        ).all()
    )
    if sort == "activity":
        return [r.id for r in sorted(rows, key=lambda r: (r.last_activity_at, r.id), reverse=True)]

    def waiting(r: Any) -> tuple[bool, Any, int]:
        key = r.waiting_since if sort == "waiting" else r.first_response_due_at
        return (key is None, key or FAR, r.id)

    return [r.id for r in sorted(rows, key=waiting)]


@pytest.mark.parametrize("sort", ["activity", "waiting", "due"])
async def test_the_api_walks_every_conversation_once_in_order(
    container: Container, clock: FakeClock, sort: str
) -> None:
    c = container
    _, token = await _busy_inbox(c, clock)
    expected = await _expected(c, sort)  # type: ignore[arg-type]
    assert len(expected) == 12
    async with api_client(c) as client:
        for limit in (1, 3, 5, 12):
            pages = await walk(client, "/api/v1/conversations", auth(token), sort=sort, limit=limit)
            assert [x["id"] for p in pages for x in p] == expected, limit
            assert all(len(p) == limit for p in pages[:-1])


@pytest.mark.parametrize("sort", ["activity", "waiting", "due"])
async def test_list_inbox_walks_every_conversation_once_in_order(
    container: Container, clock: FakeClock, sort: Sort
) -> None:
    c = container
    sam, _ = await _busy_inbox(c, clock)
    seen: list[int] = []
    cursor: Cursor | None = None
    for _ in range(20):
        page = await inbox(c, sam, sort=sort, cursor=cursor, limit=2, counts=False)
        seen += [r["id"] for r in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == await _expected(c, sort)


async def test_a_cursor_of_one_sort_is_refused_by_the_other(
    container: Container, clock: FakeClock
) -> None:
    c = container
    _, token = await _busy_inbox(c, clock)
    async with api_client(c) as client:
        r = await client.get("/api/v1/conversations?limit=2", headers=auth(token))
        cursor = r.headers["x-next-cursor"]
        r = await client.get(
            "/api/v1/conversations",
            params={"limit": 2, "sort": "waiting", "cursor": cursor},
            headers=auth(token),
        )
    assert r.status_code == 400
    assert "this sort" in r.json()["detail"]
