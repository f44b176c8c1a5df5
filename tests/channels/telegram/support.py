"""Telegram test helpers: recorded updates, a Telegram inbox, a real uvicorn."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn
from litestar.testing import AsyncTestClient

from threadline.actions.inboxes import add_inbox
from threadline.bootstrap import Container

FIXTURES = Path(__file__).parent / "fixtures"
BOT_TOKEN = "123456789:AAH-sandbox_token-for-tests"
SECRET = "s3cret-Token_1"
ADA = "1111111"  # the user id in the recorded private-chat updates
BOT = {"is_bot": True, "first_name": "Acme", "username": "acme_support_bot"}


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def update(name: str, **changes: Any) -> bytes:
    """A recorded update with top-level fields changed (a new update_id, say)."""
    data = json.loads(fixture(name))
    data.update(changes)
    return json.dumps(data).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def serving(app: Any, port: int) -> AsyncIterator[str]:
    """Serve an ASGI app with a real uvicorn on this event loop."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        ws="none",
        log_level="warning",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # uvicorn failed to start: raise why
            raise RuntimeError("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def make_telegram_inbox(c: Container, **config: Any) -> int:
    config.setdefault("bot_token", BOT_TOKEN)
    config.setdefault("secret_token", SECRET)
    config.setdefault("sandbox", True)
    inbox_id = await c.bus.execute(
        lambda tx: add_inbox(
            tx, channel="telegram", name="Acme bot", address="@acme_support_bot", config=config
        )
    )
    await c.bus.reload_inboxes()
    return inbox_id


async def post_update(
    client: AsyncTestClient,  # type: ignore[type-arg]
    inbox_id: int,
    body: bytes,
    secret: str | None = SECRET,
) -> Any:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return await client.post(f"/webhooks/telegram/{inbox_id}", content=body, headers=headers)


class ScriptedBotApi:
    """A Bot API that answers with what the test scripts: Telegram's error shapes.

    Each request takes the next (status, body) answer; a str body is sent as is
    (Telegram's edge answers some 5xx with plain text, not JSON).
    """

    def __init__(self) -> None:
        self.answers: list[tuple[int, Any]] = []
        self.requests: list[tuple[str, bytes]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        self.requests.append((scope["path"], body))
        if scope["path"].endswith("/getMe"):  # what SDKs ask first; never scripted
            status, answer = (
                200,
                {"ok": True, "result": {**BOT, "id": int(BOT_TOKEN.split(":")[0])}},
            )
        else:
            status, answer = self.answers.pop(0)
        raw = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
        kind = b"text/plain" if isinstance(answer, str) else b"application/json"
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", kind)]}
        )
        await send({"type": "http.response.body", "body": raw})
