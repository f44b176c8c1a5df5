"""POST /api/v1/triage: a text classified as if it came in on a channel, with its
reasons, and nothing stored; bodies out of bounds are refused."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tests.support.api import auth
from tests.support.factories import api_client, make_agent

from threadline.bootstrap import Container
from threadline.storage.tables import conversations, messages, timeline_entries

pytestmark = pytest.mark.anyio


async def _count(c: Container) -> tuple[int, int, int]:
    def read(conn: sa.Connection) -> tuple[int, int, int]:
        return tuple(  # type: ignore[return-value]
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (conversations, messages, timeline_entries)
        )

    return await c.db.read(read)


async def test_triage_classifies_a_text_and_stores_nothing(container: Container) -> None:
    _, token = await make_agent(container, role="agent")
    before = await _count(container)
    async with api_client(container) as client:
        r = await client.post(
            "/api/v1/triage",
            json={"text": "Meine Karte wurde abgelehnt, Zahlung fehlgeschlagen!", "channel": "sms"},
            headers=auth(token),
        )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["category"], body["urgent"], body["sensitive"]) == ("billing", True, False)
    assert body["recommended_channel"] == "voice"
    assert "matched 'zahlung fehlgeschlagen' → billing, urgent" in body["reasons"]
    assert await _count(container) == before


async def test_the_recommended_channel_is_one_the_customer_has(container: Container) -> None:
    _, token = await make_agent(container, role="agent")
    async with api_client(container) as client:
        r = await client.post(
            "/api/v1/triage",
            json={
                "text": "the site is down for everyone",
                "channel": "instagram",
                "reachable": ["instagram", "email"],
            },
            headers=auth(token),
        )
    assert r.status_code == 200, r.text
    assert r.json()["recommended_channel"] == "instagram"
    assert r.json()["reasons"][-1] == "reply by instagram: urgent"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"text": "x" * 20_001, "channel": "sms"}, "length"),
        ({"text": "hi", "channel": "fax"}, "channel"),
        ({"text": "hi", "channel": "sms", "reachable": ["sms"] * 10}, "reachable"),
        ({"text": "hi", "channel": "sms", "lexicon": {}}, "lexicon"),
        ({"channel": "sms"}, "text"),
    ],
)
async def test_a_triage_body_out_of_bounds_is_refused(
    container: Container, body: dict[str, object], why: str
) -> None:
    _, token = await make_agent(container, role="agent")
    async with api_client(container) as client:
        r = await client.post("/api/v1/triage", json=body, headers=auth(token))
    assert r.status_code == 400, r.text
    assert why in r.text
