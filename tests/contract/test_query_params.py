"""Every query and path parameter of the API has declared bounds and types: an
out-of-range value is a 400 (and shows in OpenAPI), never rows or a 500."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.factories import api_client, deliver_api, make_agent, make_api_inbox

pytestmark = pytest.mark.anyio

TOO_BIG = str(2**63)  # one past BIGINT: SQLite cannot even bind it

PAGED = {
    "/api/v1/conversations": 200,
    "/api/v1/customers": 200,
    "/api/v1/customers/{customer}/timeline": 200,
    "/api/v1/conversations/{conversation}/messages": 200,
    "/api/v1/receipts?status=all": 200,
    "/api/v1/tasks": 500,  # none exist here
}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _setup(c: Any) -> tuple[str, dict[str, int]]:
    inbox = await make_api_inbox(c)
    _, token = await make_agent(c)
    out = await deliver_api(
        c, inbox, {"id": "m1", "customer": {"email": "ana@example.com"}, "text": "hello"}
    )
    assert out.conversation_id is not None
    assert out.customer_id is not None
    return token, {"customer": out.customer_id, "conversation": out.conversation_id}


def _url(path: str, ids: dict[str, int], **params: Any) -> str:
    url = path.format(**ids)
    extra = "&".join(f"{k}={v}" for k, v in params.items())
    return url + ("&" if "?" in url else "?") + extra


@pytest.mark.parametrize("path", PAGED)
async def test_every_page_size_is_bounded(container: Any, path: str) -> None:
    token, ids = await _setup(container)
    most = PAGED[path]
    async with api_client(container) as client:
        for bad in (-1, 0, most + 1, "ten"):
            r = await client.get(_url(path, ids, limit=bad), headers=auth(token))
            assert r.status_code == 400, (bad, r.text)
        for good in (1, most):
            r = await client.get(_url(path, ids, limit=good), headers=auth(token))
            assert r.status_code == 200, (good, r.text)
            assert len(r.json()) == (0 if "tasks" in path else 1)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/conversations?status=closed",
        "/api/v1/conversations?channel=fax",
        "/api/v1/conversations?priority=whenever",
        "/api/v1/conversations?assignee_id=0",
        f"/api/v1/conversations?customer_id={TOO_BIG}",
        "/api/v1/customers?before=-3",
        f"/api/v1/customers?before={TOO_BIG}",
        "/api/v1/customers?identity=" + "e" * 401,
        "/api/v1/customers/{customer}/timeline?before=0",
        "/api/v1/conversations/{conversation}/messages?after=-1",
        "/api/v1/search?q=",
        "/api/v1/search?q=" + "w" * 501,
        "/api/v1/search?q=hello&channel=pigeon",
        f"/api/v1/search?q=hello&customer_id={TOO_BIG}",
        "/api/v1/search?q=hello&status=closed",
        "/api/v1/search?q=hello&kinds=people",
        "/api/v1/search?q=hello&limit=0",
        "/api/v1/search?q=hello&limit=101",
        "/api/v1/search?q=hello&cursor=bm90IGEgY3Vyc29y",  # base64 of "not a cursor"
        "/api/v1/search?q=hello&cursor=WyJwZW9wbGUiLDNd",  # ["people",3]: no such group
        "/api/v1/search?q=hello&cursor=WyJtZXNzYWdlcyIsMF0",  # ["messages",0]: no such id
        "/api/v1/receipts?status=lost",
        "/api/v1/tasks?status=someday",
        f"/api/v1/customers/{TOO_BIG}",
        f"/api/v1/conversations/{TOO_BIG}",
        f"/api/v1/conversations/{TOO_BIG}/reply-options",
        "/api/v1/conversations/{conversation}/reply-options?text=" + "t" * 20_001,
        f"/api/v1/receipts/{TOO_BIG}",
    ],
)
async def test_out_of_range_or_unknown_values_are_400(container: Any, url: str) -> None:
    token, ids = await _setup(container)
    async with api_client(container) as client:
        r = await client.get(url.format(**ids), headers=auth(token))
    assert r.status_code == 400, r.text


async def test_an_id_past_bigint_in_a_body_is_400(container: Any) -> None:
    token, _ = await _setup(container)
    async with api_client(container) as client:
        r = await client.post(
            "/api/v1/customers/merge",
            json={"source_id": 2**63, "target_id": 1},
            headers=auth(token),
        )
    assert r.status_code == 400, r.text


async def test_bounds_are_in_the_openapi_schema(container: Any) -> None:
    async with api_client(container) as client:
        schema = (await client.get("/api/v1/openapi.json")).json()
    for path, most in PAGED.items():
        template = path.split("?")[0].replace("{customer}", "{customer_id}")
        template = template.replace("{conversation}", "{conversation_id}")
        params = {p["name"]: p for p in schema["paths"][template]["get"]["parameters"]}
        limit = params["limit"]["schema"]
        assert (limit.get("minimum"), limit.get("maximum")) == (1, most), path
        assert "cursor" in params, path
