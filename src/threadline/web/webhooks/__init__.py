"""Provider webhooks: one module per provider, each exporting ROUTES."""

from __future__ import annotations

from typing import Any

from threadline.web.webhooks import email, meta, telegram, twilio, twilio_voice

__all__ = ["WEBHOOKS"]

WEBHOOKS: list[Any] = [
    *email.ROUTES,
    *twilio.ROUTES,
    *twilio_voice.ROUTES,
    *meta.ROUTES,
    *telegram.ROUTES,
]
