"""Is an inbox's Telegram bot token good? ``getMe``, which every bot may call."""

from __future__ import annotations

from typing import Any

import httpx

from threadline.channels.probes import CheckContext, CheckResult
from threadline.channels.telegram.send import api_base
from threadline.ports import Inbox

__all__ = ["check_bot"]


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def check_bot(inbox: Inbox, context: CheckContext) -> CheckResult:
    token = str(inbox.config.get("bot_token") or "")
    if not token:
        return CheckResult(False, "The inbox has no Telegram bot token.")
    url = f"{api_base(inbox, context.sandbox_base)}/bot{token}/getMe"
    try:
        response = await context.http.get(url, timeout=context.timeout)
    except httpx.HTTPError as exc:
        # The token is part of the URL; keep it off the page.
        detail = str(exc).replace(token, "<token>") or type(exc).__name__
        return CheckResult(False, f"Could not reach the Telegram Bot API: {detail}.")
    body = _json(response)
    bot = body.get("result")
    if body.get("ok") is True and isinstance(bot, dict):
        username = str(bot.get("username") or bot.get("id") or "?")
        wanted = inbox.address.removeprefix("@")
        note = ""
        if wanted and wanted.lower() != username.lower():
            note = f" (the inbox calls it @{wanted})"
        return CheckResult(True, f"Telegram accepted the bot token for @{username}{note}.")
    said = str(body.get("description") or f"HTTP {response.status_code}").replace(token, "<token>")
    return CheckResult(False, f"Telegram refused the bot token: {said}.")
