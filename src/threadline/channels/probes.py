"""Checking an inbox's credentials with its provider, for the settings page.

Each check asks the provider something harmless ("who am I?") at the base URL
the channel's sender uses, so a sandbox inbox is checked against the local
stand-in and a real one against the provider, and says what it heard in words.
Nothing is sent to anyone. Like the senders, checks are loaded on first use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
import httpx

from threadline.channels.registry import SenderContext, load
from threadline.ports import Inbox, Sender

__all__ = ["CHECKS", "MAX_SECONDS", "CheckContext", "CheckResult", "check_inbox"]

MAX_SECONDS = 10.0  # a person is waiting on the page
MAX_DETAIL = 500  # characters of a provider's answer worth showing

# channel -> "module:function", each an ``async (Inbox, CheckContext) -> CheckResult``
CHECKS: dict[str, str] = {
    "sms": "threadline.channels.twilio.probe:check_account",
    "voice": "threadline.channels.twilio.probe:check_account",
    "whatsapp": "threadline.channels.meta.probe:check_token",
    "messenger": "threadline.channels.meta.probe:check_token",
    "instagram": "threadline.channels.meta.probe:check_token",
    "telegram": "threadline.channels.telegram.probe:check_bot",
    "email": "threadline.channels.email.probe:check_relay",
}


@dataclass(frozen=True, slots=True)
class CheckResult:
    ok: bool | None  # None: there is nothing a provider could confirm
    detail: str  # in words, for the page; never a secret


@dataclass(frozen=True, slots=True)
class CheckContext:
    http: httpx.AsyncClient
    sandbox_base: str  # as SenderContext: e.g. http://127.0.0.1:8000/sandbox
    email: Sender | None = None  # the container's email sender: its relay is checked
    timeout: float = MAX_SECONDS

    @property
    def senders(self) -> SenderContext:
        return SenderContext(http=self.http, sandbox_base=self.sandbox_base)


Check = Callable[[Inbox, CheckContext], Awaitable[CheckResult]]


async def check_inbox(inbox: Inbox, context: CheckContext) -> CheckResult:
    path = CHECKS.get(inbox.channel)
    if path is None:
        return CheckResult(
            None,
            "There is no provider account to check for this inbox: its messages arrive "
            "through Threadline's own API.",
        )
    check: Check = load(path)
    try:
        with anyio.fail_after(context.timeout):
            result = await check(inbox, context)
    except TimeoutError:
        return CheckResult(False, f"No answer within {context.timeout:g} seconds.")
    return CheckResult(result.ok, result.detail[:MAX_DETAIL])
