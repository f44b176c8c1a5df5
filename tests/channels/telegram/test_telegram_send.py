"""Telegram replies over real HTTP: our sender and python-telegram-bot against the
sandbox Bot API, and Telegram's error answers from a scripted Bot API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import telegram
from tests.channels.telegram.support import (
    ADA,
    BOT_TOKEN,
    SECRET,
    ScriptedBotApi,
    fixture,
    make_telegram_inbox,
    post_update,
)
from tests.support.factories import api_client, make_agent
from tests.support.servers import free_port, serving

from threadline.channels.registry import SenderContext
from threadline.channels.telegram.send import TelegramSender
from threadline.channels.telegram.setup import WebhookSetupError, set_webhook
from threadline.core.model import Channel, DeliveryError, OutboundMessage
from threadline.ports import Inbox
from threadline.storage.tables import messages, sandbox_outbox

pytestmark = pytest.mark.anyio


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def outbound(text: str = "We're on it.", recipient: str = ADA) -> OutboundMessage:
    return OutboundMessage(
        message_id=1, conversation_id=1, channel=Channel.TELEGRAM, recipient=recipient, text=text
    )


async def outbox(c: Any) -> list[Any]:
    return await c.db.read(
        lambda conn: conn.execute(sa.select(sandbox_outbox).order_by(sandbox_outbox.c.id)).all()
    )


async def conversation_from_ada(c: Any, client: Any) -> tuple[int, str]:
    inbox_id = await make_telegram_inbox(c)
    _, token = await make_agent(c)
    assert (await post_update(client, inbox_id, fixture("private_text"))).status_code == 200
    [row] = await c.db.read(lambda conn: conn.execute(sa.select(messages)).all())
    return row.conversation_id, token


async def test_agent_reply_reaches_the_sandbox_bot_api(container: Any, served: str) -> None:
    c = container
    async with httpx.AsyncClient(base_url=served) as client:
        conversation_id, token = await conversation_from_ada(c, client)
        r = await client.post(
            f"/api/v1/conversations/{conversation_id}/replies",
            json={"text": "Hi Ada, invoice 42 is corrected."},
            headers=auth(token),
        )
        assert r.status_code == 202, r.text
        assert (r.json()["channel"], r.json()["recipient"]) == ("telegram", ADA)
    assert await c.runner.run_due() == 1
    [sent] = await outbox(c)
    assert (sent.provider, sent.recipient, sent.text) == (
        "telegram",
        ADA,
        "Hi Ada, invoice 42 is corrected.",
    )
    assert sent.request == {"chat_id": int(ADA), "text": "Hi Ada, invoice 42 is corrected."}
    reply = await c.db.read(
        lambda conn: conn.execute(
            sa.select(messages).where(messages.c.direction == "outbound")
        ).one()
    )
    assert reply.status == "sent"
    assert reply.provider_message_id == f"tg:{ADA}:{sent.id}" == sent.provider_message_id


async def test_reply_over_4096_characters_is_refused_before_queueing(
    container: Any, served: str
) -> None:
    c = container
    async with httpx.AsyncClient(base_url=served) as client:
        conversation_id, token = await conversation_from_ada(c, client)
        r = await client.post(
            f"/api/v1/conversations/{conversation_id}/replies",
            json={"text": "x" * 4097},
            headers=auth(token),
        )
    assert r.status_code == 422
    assert "4,096" in r.text
    assert await c.runner.run_due() == 0
    assert await outbox(c) == []


async def test_sender_refuses_overlong_text_without_calling_telegram() -> None:
    api = ScriptedBotApi()  # no answers scripted: any request would fail the test
    port = free_port()
    async with serving(api, port) as base, httpx.AsyncClient() as http:
        sender = TelegramSender(SenderContext(http, sandbox_base="http://unused/sandbox"))
        inbox = Inbox(1, "telegram", "bot", "@bot", {"bot_token": BOT_TOKEN, "api_base": base})
        with pytest.raises(DeliveryError) as caught:
            await sender.send(inbox, outbound("x" * 4097))
    assert caught.value.permanent
    assert api.requests == []


async def test_python_telegram_bot_speaks_to_the_sandbox(container: Any, served: str) -> None:
    c = container
    await make_telegram_inbox(c)  # the sandbox takes the bot token of a sandbox inbox
    bot = telegram.Bot(BOT_TOKEN, base_url=f"{served}/sandbox/telegram/bot")
    async with bot:  # initialize() calls getMe
        assert bot.bot.id == int(BOT_TOKEN.split(":")[0])
        assert bot.bot.is_bot
        sent = await bot.send_message(chat_id=int(ADA), text="Hello from the SDK")
        assert await bot.set_webhook(
            "https://support.acme.test/webhooks/telegram/1",
            secret_token=SECRET,
            allowed_updates=["message", "edited_message"],
        )
    assert isinstance(sent, telegram.Message)
    assert sent.text == "Hello from the SDK"
    assert sent.chat.id == int(ADA)
    assert sent.from_user is not None
    assert sent.from_user.id == bot.bot.id
    [row] = await outbox(c)
    assert (row.recipient, row.text, row.id) == (ADA, "Hello from the SDK", sent.message_id)


async def test_sandbox_answers_like_the_bot_api_when_it_refuses(
    container: Any, served: str
) -> None:
    base = f"{served}/sandbox/telegram"
    await make_telegram_inbox(container)
    async with httpx.AsyncClient() as http:
        empty = await http.post(f"{base}/bot{BOT_TOKEN}/sendMessage", json={"chat_id": 1})
        no_chat = await http.post(f"{base}/bot{BOT_TOKEN}/sendMessage", data={"text": "hi"})
        bad_token = await http.post(f"{base}/botnot-a-token/getMe")
    assert (empty.status_code, empty.json()) == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"},
    )
    assert no_chat.json()["description"] == "Bad Request: chat_id is empty"
    assert (bad_token.status_code, bad_token.json()["description"]) == (401, "Unauthorized")
    # PTB reads the same answers as the errors Telegram documents
    bot = telegram.Bot(BOT_TOKEN, base_url=f"{base}/bot")
    async with bot:
        with pytest.raises(telegram.error.BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(chat_id=1, text=" ")
    assert await outbox(container) == []


async def test_our_set_webhook_against_the_sandbox(container: Any, served: str) -> None:
    api_base = f"{served}/sandbox/telegram"
    await make_telegram_inbox(container)
    async with httpx.AsyncClient() as http:
        description = await set_webhook(
            http, BOT_TOKEN, "https://support.acme.test/webhooks/telegram/1", SECRET, api_base
        )
        assert description == "Webhook was set"
        with pytest.raises(WebhookSetupError, match="HTTPS URL"):
            await set_webhook(http, BOT_TOKEN, "http://insecure.test/hook", SECRET, api_base)
        with pytest.raises(ValueError, match="secret_token"):
            await set_webhook(http, BOT_TOKEN, "https://x.test/h", "not allowed!", api_base)


TELEGRAM_ERRORS = [
    (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        },
        False,
        "retry after 7 s",
        telegram.error.RetryAfter,
    ),
    (502, "Bad Gateway", False, "502", telegram.error.NetworkError),
    (
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
        True,
        "Forbidden: bot was blocked by the user",
        telegram.error.Forbidden,
    ),
    (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
        True,
        "Bad Request: chat not found",
        telegram.error.BadRequest,
    ),
    (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
        True,
        "bot_token",
        telegram.error.InvalidToken,
    ),
]


@pytest.mark.parametrize(("status", "answer", "permanent", "reason", "ptb_error"), TELEGRAM_ERRORS)
async def test_telegram_errors_map_to_retry_or_give_up(
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    answer: Any,
    permanent: bool,
    reason: str,
    ptb_error: type[Exception],
) -> None:
    # PTB 22 warns (deprecation) when RetryAfter.retry_after is an int; opting in
    # to its coming timedelta form is the documented way to avoid the warning.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    api = ScriptedBotApi()
    port = free_port()
    async with serving(api, port) as base, httpx.AsyncClient() as http:
        sender = TelegramSender(SenderContext(http, sandbox_base="http://unused/sandbox"))
        inbox = Inbox(1, "telegram", "bot", "@bot", {"bot_token": BOT_TOKEN, "api_base": base})
        api.answers.append((status, answer))
        with pytest.raises(DeliveryError) as caught:
            await sender.send(inbox, outbound())
        # the official SDK reads the same answer as the same kind of failure
        api.answers.append((status, answer))
        async with telegram.Bot(BOT_TOKEN, base_url=f"{base}/bot") as bot:
            with pytest.raises(ptb_error) as sdk:
                await bot.send_message(chat_id=int(ADA), text="We're on it.")
    assert caught.value.permanent is permanent
    assert reason in caught.value.reason
    assert BOT_TOKEN not in caught.value.reason
    assert api.requests[0][0] == f"/bot{BOT_TOKEN}/sendMessage"
    if isinstance(sdk.value, telegram.error.RetryAfter):
        assert sdk.value.retry_after == timedelta(seconds=7)


async def test_blocked_bot_marks_the_reply_failed_for_the_agent(container: Any) -> None:
    c = container
    api = ScriptedBotApi()
    port = free_port()
    api.answers.append(
        (
            403,
            {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            },
        )
    )
    async with serving(api, port) as base:
        inbox_id = await make_telegram_inbox(c, sandbox=False, api_base=base)
        _, token = await make_agent(c)
        async with api_client(c) as client:
            await post_update(client, inbox_id, fixture("private_text"))
            conv_id = (await client.get("/api/v1/conversations", headers=auth(token))).json()[0][
                "id"
            ]
            r = await client.post(
                f"/api/v1/conversations/{conv_id}/replies",
                json={"text": "Are you still there?"},
                headers=auth(token),
            )
            assert r.status_code == 202
            assert await c.runner.run_due() == 1
            msgs = (
                await client.get(f"/api/v1/conversations/{conv_id}/messages", headers=auth(token))
            ).json()
    assert (msgs[-1]["status"], msgs[-1]["error"]) == (
        "failed",
        "Telegram refused the message: Forbidden: bot was blocked by the user",
    )
    assert api.requests[0][0] == f"/bot{BOT_TOKEN}/sendMessage"
