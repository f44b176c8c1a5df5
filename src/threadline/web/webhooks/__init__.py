"""Provider webhooks: one module per provider, each exporting ROUTES."""

from __future__ import annotations

from typing import Any

from threadline.web.webhooks import email

__all__ = ["WEBHOOKS"]

WEBHOOKS: list[Any] = [
    *email.ROUTES,
    # twilio-sms: routes here
    # twilio-voice: routes here
    # meta: routes here
    # telegram: routes here
]
