"""Telegram test helpers: recorded updates, a Telegram inbox, a scripted Bot API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient
from tests.support.factories import make_inbox
from tests.support.servers import read_body, respond

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


async def make_telegram_inbox(c: Container, **config: Any) -> int:
    config.setdefault("bot_token", BOT_TOKEN)
    config.setdefault("secret_token", SECRET)
    config.setdefault("sandbox", True)
    return await make_inbox(c, "telegram", "Acme bot", "@acme_support_bot", config)


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
        self.requests.append((scope["path"], await read_body(receive)))
        if scope["path"].endswith("/getMe"):  # what SDKs ask first; never scripted
            status, answer = (
                200,
                {"ok": True, "result": {**BOT, "id": int(BOT_TOKEN.split(":")[0])}},
            )
        else:
            status, answer = self.answers.pop(0)
        await respond(send, status, answer, text_type=b"text/plain")
