"""The customer routes of the API: editing a customer, and merge suggestions
listed, accepted (then undone) and dismissed, in the caller's scope."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.support.desk import Desk, build_desk
from tests.support.factories import deliver_api

from threadline.bootstrap import Container

pytestmark = pytest.mark.anyio

API = "/api/v1"


def _as(desk: Desk, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {desk.users[who].token}"}


@pytest.fixture
async def desk(container: Container) -> Desk:
    return await build_desk(container)


async def test_patch_renames_and_sets_attributes(served: str, desk: Desk) -> None:
    ana = desk.billing.customer_id
    async with httpx.AsyncClient(base_url=served, headers=_as(desk, "restricted")) as client:
        r = await client.patch(
            f"{API}/customers/{ana}",
            json={"name": "Ana S. Souza", "attributes": {"plan": "pro", "city": "Porto"}},
        )
        assert r.status_code == 200, r.text
        assert (r.json()["name"], r.json()["attributes"]) == (
            "Ana S. Souza",
            {"plan": "pro", "city": "Porto"},
        )
        r = await client.patch(f"{API}/customers/{ana}", json={"attributes": {"city": None}})
        assert r.json()["attributes"] == {"plan": "pro"}
        assert (await client.get(f"{API}/customers/{ana}")).json()["attributes"] == {"plan": "pro"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"attributes": {"bad/key": "v"}}, 422),
        ({"attributes": {"note": "bell\x07"}}, 422),
        ({"name": "Ana\nSouza"}, 422),
        ({"attributes": {"plan": 3}}, 400),
        ({"attributes": {"k": "x" * 501}}, 400),
        ({"attributes": {f"k{i}": None for i in range(101)}}, 400),
        ({"name": ""}, 400),
        ({"nickname": "Ana"}, 400),
    ],
)
async def test_patch_refuses_what_cannot_be_stored(
    served: str, desk: Desk, body: dict[str, Any], status: int
) -> None:
    ana = desk.billing.customer_id
    async with httpx.AsyncClient(base_url=served, headers=_as(desk, "agent")) as client:
        r = await client.patch(f"{API}/customers/{ana}", json=body)
        assert r.status_code == status, r.text
        after = (await client.get(f"{API}/customers/{ana}")).json()
    assert (after["name"], after["attributes"]) == ("Ana Souza", {})


async def test_a_suggestion_is_accepted_undone_and_dismissed(served: str, desk: Desk) -> None:
    ana = desk.billing.customer_id
    first, second = desk.billing.suggestions
    async with httpx.AsyncClient(base_url=served, headers=_as(desk, "restricted")) as client:
        listed = await client.get(f"{API}/customers/{ana}/merge-suggestions")
        assert listed.status_code == 200, listed.text
        assert [s["id"] for s in listed.json()] == [first, second]
        claimant = listed.json()[0]["customer"]["id"]
        assert listed.json()[0]["other_customer"]["name"] == "Ana Souza"

        accepted = await client.post(f"{API}/merge-suggestions/{first}/accept")
        assert accepted.status_code == 201, accepted.text
        assert accepted.json()["target_id"] == ana
        # the claimant's conversation moved to Ana, and Rosa with it
        assert (await client.get(f"{API}/customers/{claimant}")).status_code == 404
        again = await client.post(f"{API}/merge-suggestions/{first}/accept")
        assert again.status_code == 409, again.text  # settled; not hidden by the merge

        undone = await client.post(
            f"{API}/customers/unmerge", json={"merge_id": accepted.json()["merge_id"]}
        )
        assert undone.status_code == 201, undone.text
        listed = await client.get(f"{API}/customers/{ana}/merge-suggestions")
        assert [s["id"] for s in listed.json()] == [first, second]

        dismissed = await client.post(f"{API}/merge-suggestions/{second}/dismiss")
        assert dismissed.status_code == 200, dismissed.text
        assert (dismissed.json()["id"], dismissed.json()["status"]) == (second, "dismissed")
        listed = await client.get(f"{API}/customers/{ana}/merge-suggestions")
        assert [s["id"] for s in listed.json()] == [first]


async def test_a_suggestion_reaching_out_of_scope_is_not_found(
    container: Container, served: str, desk: Desk
) -> None:
    # A stranger on Billing's app claims Sales's Ana: Rosa may see the stranger,
    # but the suggestion names Ana, and accepting it would merge into her.
    out = await deliver_api(
        container,
        desk.billing.api_inbox,
        {
            "customer": {"external_id": "x", "email": "ana@sales.example", "verified": False},
            "text": "it's me",
        },
    )
    async with httpx.AsyncClient(base_url=served, headers=_as(desk, "agent")) as sam:
        [crossing] = (await sam.get(f"{API}/customers/{out.customer_id}/merge-suggestions")).json()
    async with httpx.AsyncClient(base_url=served, headers=_as(desk, "restricted")) as rosa:
        listed = await rosa.get(f"{API}/customers/{out.customer_id}/merge-suggestions")
        assert (listed.status_code, listed.json()) == (200, [])
        hidden = await rosa.post(f"{API}/merge-suggestions/{crossing['id']}/accept")
        missing = await rosa.post(f"{API}/merge-suggestions/999999/accept")
        assert (hidden.status_code, missing.status_code) == (404, 404)
        assert hidden.json()["detail"].replace(str(crossing["id"]), "N") == missing.json()[
            "detail"
        ].replace("999999", "N")
        assert (
            await rosa.post(f"{API}/merge-suggestions/{crossing['id']}/dismiss")
        ).status_code == 404
    async with httpx.AsyncClient(base_url=served, headers=_as(desk, "agent")) as sam:
        accepted = await sam.post(f"{API}/merge-suggestions/{crossing['id']}/accept")
        assert accepted.status_code == 201, accepted.text
        assert accepted.json()["target_id"] == desk.sales.customer_id
