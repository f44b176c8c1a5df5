"""The rules API: created, edited into new versions, switched, ordered, deleted."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.support.desk import Desk, build_desk

from threadline.bootstrap import Container

pytestmark = pytest.mark.anyio

API = "/api/v1"
RULE: dict[str, Any] = {
    "name": "Refunds to billing",
    "events": ["message_received"],
    "conditions": [{"channel": ["email"]}, {"text": ["refund"]}],
    "actions": [{"add_tag": "billing"}],
}


def _as(desk: Desk, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {desk.users[who].token}"}


@pytest.fixture
async def desk(container: Container) -> Desk:
    return await build_desk(container)


async def test_every_edit_is_a_new_version_and_the_old_ones_stay(served: str, desk: Desk) -> None:
    async with httpx.AsyncClient(base_url=served, headers=_as(desk, "admin")) as client:
        r = await client.post(f"{API}/rules", json=RULE)
        assert r.status_code == 201, r.text
        rule = r.json()
        assert (rule["version"], rule["enabled"], rule["conditions"]) == (
            1,
            True,
            RULE["conditions"],
        )
        r = await client.put(f"{API}/rules/{rule['id']}", json={**RULE, "name": "Refunds"})
        assert (r.json()["name"], r.json()["version"]) == ("Refunds", 2)
        r = await client.put(f"{API}/rules/{rule['id']}/enabled", json={"enabled": False})
        assert (r.json()["enabled"], r.json()["version"]) == (False, 3)
        versions = (await client.get(f"{API}/rules/{rule['id']}/versions")).json()
        assert [(v["version"], v["name"], v["enabled"]) for v in versions] == [
            (3, "Refunds", False),
            (2, "Refunds", True),
            (1, "Refunds to billing", True),
        ]
        assert (await client.delete(f"{API}/rules/{rule['id']}")).status_code == 200
        assert (await client.get(f"{API}/rules/{rule['id']}")).status_code == 404
        assert (await client.get(f"{API}/rules")).json() == []
        # the timeline still names the versions of a deleted rule
        assert len((await client.get(f"{API}/rules/{rule['id']}/versions")).json()) == 3


async def test_rules_run_in_the_order_set(served: str, desk: Desk) -> None:
    async with httpx.AsyncClient(base_url=served, headers=_as(desk, "admin")) as client:
        ids = [
            (await client.post(f"{API}/rules", json={**RULE, "name": f"r{i}"})).json()["id"]
            for i in range(3)
        ]
        r = await client.put(f"{API}/rules/order", json={"rule_ids": ids[::-1]})
        assert [x["id"] for x in r.json()] == ids[::-1]
        r = await client.put(f"{API}/rules/order", json={"rule_ids": ids[:2]})
        assert r.status_code == 422
        assert "every rule exactly once" in r.text


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({**RULE, "conditions": [{"channel": ["fax"]}]}, 422, "conditions[0].channel[0]"),
        ({**RULE, "actions": [{"explode": 1}]}, 422, "unknown action"),
        ({**RULE, "events": []}, 400, "events"),
        ({**RULE, "colour": "red"}, 400, "colour"),
        ({**RULE, "actions": [{"reply": "x" * 5001}]}, 422, "at most 5000"),
    ],
)
async def test_a_bad_rule_is_refused_with_where_and_why(
    served: str, desk: Desk, body: dict[str, Any], status: int, says: str
) -> None:
    async with httpx.AsyncClient(base_url=served, headers=_as(desk, "admin")) as client:
        r = await client.post(f"{API}/rules", json=body)
    assert r.status_code == status
    assert says in r.text


async def test_agents_read_the_rules_and_cannot_write_them(served: str, desk: Desk) -> None:
    async with httpx.AsyncClient(base_url=served) as client:
        r = await client.post(f"{API}/rules", json=RULE, headers=_as(desk, "admin"))
        assert r.status_code == 201
        r = await client.get(f"{API}/rules", headers=_as(desk, "agent"))
        assert [x["name"] for x in r.json()] == [RULE["name"]]
        r = await client.post(f"{API}/rules", json=RULE, headers=_as(desk, "agent"))
        assert r.status_code == 403
