"""GET /api/v1/search: grouped hits, each group paged by the cursor in its body."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.factories import api_client, deliver_api, make_agent, make_api_inbox

from threadline.bootstrap import Container

pytestmark = pytest.mark.anyio


async def _kettle_fans(c: Container, n: int) -> list[Any]:
    inbox = await make_api_inbox(c)
    out = []
    for i in range(n):
        body = {
            "id": f"m{i}",
            "customer": {"external_id": f"fan-{i}", "name": f"Kettle Fan {i}"},
            "text": f"my kettle number {i}",
            "subject": f"Kettle {i}",
        }
        out.append(await deliver_api(c, inbox, body))
    return out


async def test_one_answer_holds_customers_conversations_and_messages(container: Container) -> None:
    [said] = await _kettle_fans(container, 1)
    _, token = await make_agent(container)
    async with api_client(container) as client:
        r = await client.get(
            "/api/v1/search", params={"q": "kettle"}, headers={"Authorization": f"Bearer {token}"}
        )
    assert r.status_code == 200, r.text
    body = r.json()
    [customer] = body["customers"]["hits"]
    assert (customer["id"], customer["name"]) == (said.customer_id, "Kettle Fan 0")
    assert customer["segments"] == [
        {"text": "Kettle", "match": True},
        {"text": " Fan 0", "match": False},
    ]
    [conversation] = body["conversations"]["hits"]
    assert conversation["id"] == said.conversation_id
    assert conversation["segments"][0] == {"text": "Kettle", "match": True}
    [message] = body["messages"]["hits"]
    assert message["message_id"] == said.message_id
    assert [s["text"] for s in message["segments"] if s["match"]] == ["kettle"]
    assert [body[g]["next_cursor"] for g in ("customers", "conversations", "messages")] == [
        None,
        None,
        None,
    ]


async def test_each_group_pages_on_its_own_to_the_end(container: Container) -> None:
    said = await _kettle_fans(container, 5)
    _, token = await make_agent(container)
    expected = {
        "customers": [o.customer_id for o in reversed(said)],
        "conversations": [o.conversation_id for o in reversed(said)],
        "messages": [o.message_id for o in reversed(said)],
    }
    key = {"customers": "id", "conversations": "id", "messages": "message_id"}
    async with api_client(container) as client:
        for group in expected:
            seen: list[int] = []
            params: dict[str, Any] = {"q": "kettle", "limit": 2, "kinds": group}
            for _ in range(10):
                r = await client.get(
                    "/api/v1/search", params=params, headers={"Authorization": f"Bearer {token}"}
                )
                assert r.status_code == 200, r.text
                body = r.json()
                # a page of one group holds that group alone
                others = [g for g in expected if g != group]
                assert [body[g]["hits"] for g in others] == [[], []]
                seen += [h[key[group]] for h in body[group]["hits"]]
                if (cursor := body[group]["next_cursor"]) is None:
                    break
                params = {"q": "kettle", "limit": 2, "cursor": cursor}
            assert seen == expected[group], group


async def test_kinds_choose_the_groups(container: Container) -> None:
    await _kettle_fans(container, 1)
    _, token = await make_agent(container)
    async with api_client(container) as client:
        r = await client.get(
            "/api/v1/search?q=kettle&kinds=customers&kinds=messages",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert r.status_code == 200, r.text
    assert [len(r.json()[g]["hits"]) for g in ("customers", "conversations", "messages")] == [
        1,
        0,
        1,
    ]
