"""How an inbox is named to the public on the contact page (GET /contact).

Pure, and deliberately narrow: an inbox's config holds provider secrets and
internal settings, so only the address and the few public keys named here are
ever read; everything else stays out of the page whatever it holds. The API
channel is for the business's own systems and is never listed, nor is an inbox
whose config says ``"contact_page": false`` (Settings → the inbox's hours).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

__all__ = ["ORDER", "Listing", "listing"]

# The order the page lists channels in: the quickest first.
ORDER = ("chat", "voice", "sms", "whatsapp", "email", "messenger", "instagram", "telegram")
_PHONE = re.compile(r"\+?[0-9 ().-]{4,30}")
_HANDLE = re.compile(r"@?([A-Za-z0-9_.]{1,64})")
_NUMERIC = re.compile(r"[0-9]{1,30}")


@dataclass(frozen=True, slots=True)
class Listing:
    channel: str
    title: str  # "Email", "Phone", "Live chat"
    label: str  # what a customer types or taps: the address, the number, the handle
    href: str | None  # mailto:, tel:, sms:, https://wa.me/… (None: nothing to follow)
    verb: str  # the sentence's verb: "answer email", "call back"


def _phone(value: Any) -> str | None:
    text = str(value or "").strip()
    return text if _PHONE.fullmatch(text) and sum(ch.isdigit() for ch in text) >= 4 else None


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _handle(value: Any) -> str | None:
    match = _HANDLE.fullmatch(str(value or "").strip())
    return match[1] if match else None


def listing(channel: str, address: str, config: Mapping[str, Any]) -> Listing | None:
    """The public face of one inbox, or None when it is not listed."""
    if config.get("contact_page") is False:
        return None
    match channel:
        case "email":
            return Listing(
                channel, "Email", address, f"mailto:{quote(address, safe='@.+')}", "answer email"
            )
        case "voice" if (number := _phone(address)) is not None:
            return Listing(channel, "Phone", number, f"tel:+{_digits(number)}", "call back")
        case "sms" if (number := _phone(address)) is not None:
            return Listing(
                channel, "Text message", number, f"sms:+{_digits(number)}", "answer texts"
            )
        case "chat":
            return Listing(channel, "Live chat", "Live chat on our website", None, "answer chat")
        case "whatsapp":
            # The inbox's address is Meta's phone number id, not a number anyone can
            # dial: only the display number, where one is configured, is shown.
            number = _phone(config.get("display_phone_number"))
            if number is None:
                label = "Our WhatsApp business account"
                return Listing(channel, "WhatsApp", label, None, "answer WhatsApp messages")
            return Listing(
                channel,
                "WhatsApp",
                number,
                f"https://wa.me/{_digits(number)}",
                "answer WhatsApp messages",
            )
        case "messenger" if _NUMERIC.fullmatch(address):
            return Listing(
                channel,
                "Messenger",
                "Message our Facebook Page",
                f"https://m.me/{address}",
                "answer Messenger messages",
            )
        case "instagram":
            handle = _handle(config.get("username"))
            href = f"https://ig.me/m/{handle}" if handle else None
            label = f"@{handle}" if handle else "Instagram direct messages"
            return Listing(channel, "Instagram", label, href, "answer Instagram messages")
        case "telegram" if (handle := _handle(address)) is not None:
            return Listing(
                channel,
                "Telegram",
                f"@{handle}",
                f"https://t.me/{handle}",
                "answer Telegram messages",
            )
    return None
