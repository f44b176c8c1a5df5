"""Pointing a bot at Threadline: setWebhook, once per bot.

Telegram only delivers to a webhook it was told about, with the secret token
our webhook checks on every update. Updates are limited to what the adapter
reads, so Telegram does not send (and retry) events we would only ignore.
"""

from __future__ import annotations

import re

import httpx

from threadline.channels.telegram.send import API_BASE

__all__ = ["ALLOWED_UPDATES", "WebhookSetupError", "set_webhook"]

ALLOWED_UPDATES = ["message", "edited_message"]
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what setWebhook accepts


class WebhookSetupError(RuntimeError):
    """Telegram refused the webhook, or could not be asked; the message says why."""


async def set_webhook(
    http: httpx.AsyncClient,
    bot_token: str,
    url: str,
    secret_token: str,
    api_base: str = API_BASE,
) -> str:
    """Register ``url`` (``…/webhooks/telegram/<inbox id>``) for the bot; returns
    Telegram's description ("Webhook was set")."""
    if not _SECRET.match(secret_token):
        raise ValueError("secret_token must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
    endpoint = f"{api_base.rstrip('/')}/bot{bot_token}/setWebhook"
    try:
        response = await http.post(
            endpoint,
            json={"url": url, "secret_token": secret_token, "allowed_updates": ALLOWED_UPDATES},
        )
    except httpx.HTTPError as exc:
        detail = str(exc).replace(bot_token, "<token>") or type(exc).__name__
        raise WebhookSetupError(f"could not reach the Telegram Bot API: {detail}") from exc
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or answer.get("ok") is not True:
        description = answer.get("description") if isinstance(answer, dict) else None
        raise WebhookSetupError(
            f"Telegram refused the webhook: {description or f'HTTP {response.status_code}'}"
        )
    return str(answer.get("description") or "Webhook was set")
