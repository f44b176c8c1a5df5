"""Errors as a client and an operator see them: a request id on every answer and
log line, a generic 500 that names it, and a 400 for bodies that are not JSON."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from tests.channels.meta.support import fixture, post_meta
from tests.support.factories import api_client, deliver_api, make_agent, make_api_inbox
from tests.support.logs import restore_logging  # noqa: F401 (a fixture)

from threadline.logs import configure_logging
from threadline.storage.tables import conversations, messages

pytestmark = pytest.mark.anyio

NESTED = b"[" * 100_000 + b"]" * 100_000
BAD_UTF8 = b'{"id": "m1", "customer": {"email": "ana@example.com"}, "text": "caf\xe9 \xff"}'


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def lines_with(err: str, event: str) -> list[str]:
    return [line for line in err.splitlines() if f"event={event}" in line]


async def _broken_conversation(c: Any, **corrupt: Any) -> int:
    """A conversation with a corrupt stored row: answering with it fails inside our
    code, as a real bug would."""
    inbox = await make_api_inbox(c)
    out = await deliver_api(
        c, inbox, {"id": "m1", "customer": {"email": "ana@example.com"}, "text": "hi"}
    )
    table = messages if "meta" in corrupt else conversations
    await c.db.write(lambda tx: tx.conn.execute(sa.update(table).values(**corrupt)))
    assert out.conversation_id is not None
    return out.conversation_id


@pytest.mark.usefixtures("restore_logging")
async def test_unhandled_error_is_logged_with_the_request_id_the_client_gets(
    container: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("info")
    conv = await _broken_conversation(container, meta=["not", "an", "object"])
    _, token = await make_agent(container)
    async with api_client(container) as client:
        r = await client.get(f"/api/v1/conversations/{conv}/messages", headers=auth(token))
    assert r.status_code == 500
    rid = r.headers["x-request-id"]
    assert r.json() == {"status_code": 500, "detail": "Internal Server Error", "request_id": rid}
    failed = lines_with(capsys.readouterr().err, "request.failed")
    assert len(failed) == 1, failed
    assert f"request_id={rid}" in failed[0]
    assert f"path=/api/v1/conversations/{conv}/messages" in failed[0]
    assert "AttributeError" in failed[0]  # the traceback is in the log, not in the answer


async def test_500_answer_leaks_no_exception_text(container: Any) -> None:
    # A priority outside the contract: the response model refuses it, naming it.
    conv = await _broken_conversation(container, priority="bogus")
    _, token = await make_agent(container)
    async with api_client(container) as client:
        r = await client.get(f"/api/v1/conversations/{conv}", headers=auth(token))
    assert r.status_code == 500
    assert "bogus" not in r.text
    assert "priority" not in r.text


@pytest.mark.usefixtures("restore_logging")
async def test_every_log_line_of_a_request_carries_its_id(
    container: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("info")
    async with api_client(container) as client:
        # No Meta inbox has this number: the webhook logs a warning, then answers 404.
        r = await post_meta(client, fixture("whatsapp_text"))
    assert r.status_code == 404
    unknown = lines_with(capsys.readouterr().err, "meta.unknown_address")
    assert len(unknown) == 1, unknown
    assert f"request_id={r.headers['x-request-id']}" in unknown[0]


async def test_each_request_gets_a_fresh_id_and_a_well_formed_incoming_one_is_kept(
    container: Any,
) -> None:
    async with api_client(container) as client:
        one = (await client.get("/api/v1/conversations")).headers["x-request-id"]
        two = (await client.get("/api/v1/conversations")).headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{16}", one)
        assert one != two
        kept = await client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.91:2"})
        assert kept.headers["x-request-id"] == "lb-7f3a.91:2"
        for hostile in ["a" * 65, "x y", "id\u00e9".encode(), "-leading-dash", "a=1 level=error"]:
            r = await client.get("/healthz", headers={"X-Request-ID": hostile})
            assert re.fullmatch(r"[0-9a-f]{16}", r.headers["x-request-id"]), hostile


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/messages", BAD_UTF8),
        ("/api/v1/messages", NESTED),
        ("/api/v1/customers", BAD_UTF8),
        ("/api/v1/customers", NESTED),
        ("/api/v1/customers", b'{"name": "Ana"'),
    ],
    ids=["messages-utf8", "messages-nested", "customers-utf8", "customers-nested", "truncated"],
)
async def test_a_body_that_is_not_json_gets_400_not_500(
    container: Any, path: str, body: bytes
) -> None:
    await make_api_inbox(container)
    _, token = await make_agent(container)
    async with api_client(container) as client:
        r = await client.post(path, content=body, headers=auth(token))
    assert r.status_code == 400, r.text
    detail = r.json()["detail"]
    assert detail.startswith("the request body is not valid")
    assert any(why in detail for why in ("UTF-8", "nested too deeply", "truncated"))


@pytest.mark.parametrize("body", [BAD_UTF8, NESTED], ids=["utf8", "nested"])
async def test_webhook_answers_a_body_that_is_not_json_as_before(
    container: Any, body: bytes
) -> None:
    async with api_client(container) as client:
        r = await post_meta(client, body)
    assert r.status_code == 400
    assert r.json()["detail"].startswith("not a Meta webhook payload: not JSON")
