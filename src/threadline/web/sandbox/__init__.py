"""Sandbox providers: local stand-ins for the providers' REST APIs.

An inbox in sandbox mode sends through the same adapter code as production,
to these endpoints instead of the internet; what they receive lands in the
sandbox outbox, where the customer simulator shows it as the customer's phone
or app would.
"""

from __future__ import annotations

from typing import Any

from threadline.channels.meta import sandbox as meta_sandbox
from threadline.channels.meta import sandbox_me
from threadline.channels.telegram import sandbox as telegram_sandbox
from threadline.channels.twilio import sandbox as twilio_sandbox
from threadline.channels.twilio import sandbox_account

__all__ = ["SANDBOX"]

SANDBOX: list[Any] = [
    *twilio_sandbox.ROUTES,
    *sandbox_account.ROUTES,
    *meta_sandbox.ROUTES,
    *sandbox_me.ROUTES,
    *telegram_sandbox.ROUTES,
]
