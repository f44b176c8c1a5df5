"""Twilio SMS test helpers: recorded webhook forms, an SMS inbox, signing with
Twilio's own RequestValidator, and a real uvicorn for outbound tests."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import uvicorn
from litestar.testing import AsyncTestClient
from twilio.request_validator import RequestValidator

from threadline.actions.inboxes import add_inbox
from threadline.bootstrap import Container

FIXTURES = Path(__file__).parent / "fixtures"
ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
OUR_NUMBER = "+14155550100"
ANA_PHONE = "+14155550101"
# What the test client requests (and so what Twilio would have signed).
BASE = "http://testserver.local"


def form(name: str, **changes: str | None) -> dict[str, str]:
    """A recorded Twilio form with fields changed; a None value drops the field."""
    data: dict[str, str] = json.loads((FIXTURES / f"{name}.json").read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, params))


async def post_form(
    client: AsyncTestClient,  # type: ignore[type-arg]
    path: str,
    params: dict[str, str],
    *,
    signature: str | None = None,
    token: str = AUTH_TOKEN,
) -> Any:
    """POST a form as Twilio does, signed over the URL the client requests."""
    url = f"{BASE}{path}"
    return await client.post(
        url,
        content=urlencode(params).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature if signature is not None else sign(url, params, token),
            "I-Twilio-Idempotency-Token": "e0f6f5a5-2b44-4c2b-9f43-0d3b9c2e6f11",
        },
    )


async def make_sms_inbox(c: Container, number: str = OUR_NUMBER, **config: Any) -> int:
    config.setdefault("account_sid", ACCOUNT_SID)
    config.setdefault("auth_token", AUTH_TOKEN)
    config.setdefault("sandbox", True)
    inbox_id = await c.bus.execute(
        lambda tx: add_inbox(tx, channel="sms", name="Acme SMS", address=number, config=config)
    )
    await c.bus.reload_inboxes()
    return inbox_id


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def serving(app: Any, port: int) -> AsyncIterator[str]:
    """Serve an ASGI app with a real uvicorn on this event loop; yields its base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", ws="none", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # uvicorn could not start: raise why
            raise RuntimeError("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


class ScriptedTwilio:
    """A Twilio API that answers what the test scripts (status, JSON or text)."""

    def __init__(self, *answers: tuple[int, Any]) -> None:
        self.answers = list(answers)
        self.requests: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        self.requests.append(body)
        status, answer = self.answers.pop(0)
        raw = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
        kind = b"text/html" if isinstance(answer, str) else b"application/json"
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", kind)]}
        )
        await send({"type": "http.response.body", "body": raw})
