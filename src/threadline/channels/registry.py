"""Which parser reads which receipts, and which sender speaks for which channel.

Entries are import paths, loaded the first time an inbox needs them: a
deployment that never uses Telegram never imports its adapter. Built-in
channels register here exactly as a third-party adapter would.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from threadline.ports import Parser, Sender

__all__ = ["PARSERS", "SENDERS", "LazyRegistry", "SenderContext", "load"]

# receipt source -> parser class (instantiated with no arguments)
PARSERS: dict[str, str] = {
    "email": "threadline.channels.email.adapter:EmailParser",
    "api": "threadline.channels.api.parse:ApiParser",
    "chat": "threadline.channels.chat.parse:ChatParser",
    "twilio_sms": "threadline.channels.twilio.sms:SmsParser",
    "twilio_status": "threadline.channels.twilio.sms:StatusParser",
    "twilio_voice": "threadline.channels.twilio.voice:VoiceParser",
    "meta": "threadline.channels.meta.parse:MetaParser",
    "telegram": "threadline.channels.telegram.parse:TelegramParser",
}

# channel -> sender class (instantiated with a SenderContext); email is built in bootstrap
SENDERS: dict[str, str] = {
    "api": "threadline.channels.api.send:ApiWebhookSender",
    "sms": "threadline.channels.twilio.send:SmsSender",
    "whatsapp": "threadline.channels.meta.send:WhatsAppSender",
    "messenger": "threadline.channels.meta.send:MessengerSender",
    "instagram": "threadline.channels.meta.send:InstagramSender",
    "telegram": "threadline.channels.telegram.send:TelegramSender",
}


@dataclass(frozen=True, slots=True)
class SenderContext:
    """What every HTTP sender gets: one shared client, and where the sandbox lives."""

    http: httpx.AsyncClient
    sandbox_base: str  # e.g. http://127.0.0.1:8000/sandbox; used by inboxes in sandbox mode


def load(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


class LazyRegistry(Mapping[str, Any]):
    """A mapping that builds each entry on first use."""

    def __init__(
        self, paths: Mapping[str, str], *args: Any, overrides: Mapping[str, Any] | None = None
    ) -> None:
        self._paths = dict(paths)
        self._args = args
        self._built: dict[str, Any] = dict(overrides or {})

    def __getitem__(self, key: str) -> Any:
        if key not in self._built:
            if key not in self._paths:
                raise KeyError(key)
            self._built[key] = load(self._paths[key])(*self._args)
        return self._built[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths.keys() | self._built.keys())

    def __len__(self) -> int:
        return len(self._paths.keys() | self._built.keys())


def parsers() -> Mapping[str, Parser]:
    return LazyRegistry(PARSERS)


def senders(context: SenderContext, overrides: Mapping[str, Sender]) -> Mapping[str, Sender]:
    return LazyRegistry(SENDERS, context, overrides=overrides)
