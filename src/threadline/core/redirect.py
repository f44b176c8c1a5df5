"""Redirecting account questions from social DMs to a verified channel (issue 9).

A WhatsApp, Messenger, Instagram or Telegram account proves who holds that
account, not who holds an account with the business: a DM that asks for a
password reset or an order's card details is answered with a link that continues
the conversation where the customer can prove who they are (the chat widget with
the business's signed identity, or a confirmed email address). Pure: the inbox's
settings, the reply's words and whether to send one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from threadline.core.chat_config import plain_text
from threadline.core.model import Channel
from threadline.core.tokens import sign_until, verify_until

__all__ = [
    "COOLDOWN",
    "DEFAULT_TEMPLATE",
    "EMAIL_LIFETIME",
    "LINK_LIFETIME",
    "MAX_CHAT_URL",
    "MAX_EMAIL_SENDS",
    "MAX_TEMPLATE",
    "SOCIAL",
    "RedirectConfig",
    "RedirectConfigError",
    "link_token",
    "parse_redirect_config",
    "read_link",
    "redirect_reason",
    "render_redirect",
    "should_redirect",
]

SOCIAL = frozenset({Channel.WHATSAPP, Channel.MESSENGER, Channel.INSTAGRAM, Channel.TELEGRAM})
LINK_LIFETIME = timedelta(hours=24)  # the redirect link in the DM
COOLDOWN = timedelta(hours=24)  # one redirect per conversation in this long
EMAIL_LIFETIME = timedelta(minutes=30)  # the one-time confirmation link by email
MAX_EMAIL_SENDS = 3  # confirmation mails per redirect link
EMAIL_EVERY = timedelta(minutes=1)  # between two confirmation mails of one link
MAX_TEMPLATE = 600
MAX_CHAT_URL = 500

DEFAULT_TEMPLATE = (
    "Hi{name}, we can't look into account details here, for your security. "
    "Please continue in our verified chat or by email: {link}\n"
    "The link works for 24 hours."
)
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_KNOWN = frozenset({"link", "name"})
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=%]+")

_LABEL = {
    Channel.WHATSAPP: "WhatsApp",
    Channel.MESSENGER: "Messenger",
    Channel.INSTAGRAM: "Instagram",
    Channel.TELEGRAM: "Telegram",
}


class RedirectConfigError(ValueError):
    """A redirect setting that cannot be used; the message says which and why."""


@dataclass(frozen=True, slots=True)
class RedirectConfig:
    """A social inbox's ``redirect`` settings. On by default: an account question
    answered in a DM is the risk, and the reply costs the customer one tap."""

    enabled: bool = True
    template: str = DEFAULT_TEMPLATE
    offer_chat: bool = True
    offer_email: bool = True
    # The business's page that shows the widget (its signed identity proves the
    # visitor); empty: the chat opens on our own continue page, unverified until
    # the visitor confirms an email.
    chat_url: str = ""

    def as_config(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "template": self.template,
            "offer_chat": self.offer_chat,
            "offer_email": self.offer_email,
            "chat_url": self.chat_url,
        }


def parse_redirect_config(raw: Any) -> RedirectConfig:
    """The settings from ``raw`` (stored, or typed; None: the defaults). Raises
    RedirectConfigError."""
    if raw is None:
        return RedirectConfig()
    if not isinstance(raw, Mapping):
        raise RedirectConfigError("redirect settings are an object")
    unknown = set(raw) - {"enabled", "template", "offer_chat", "offer_email", "chat_url"}
    if unknown:
        raise RedirectConfigError(f"not a redirect setting: {', '.join(sorted(unknown))[:80]}")
    config = RedirectConfig(
        enabled=_flag("enabled", raw.get("enabled"), True),
        template=_template(raw.get("template")),
        offer_chat=_flag("offer_chat", raw.get("offer_chat"), True),
        offer_email=_flag("offer_email", raw.get("offer_email"), True),
        chat_url=_chat_url(raw.get("chat_url")),
    )
    if config.enabled and not (config.offer_chat or config.offer_email):
        raise RedirectConfigError("offer the chat, email or both, or turn the redirect off")
    return config


def _flag(name: str, value: Any, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise RedirectConfigError(f"{name}: true or false")
    return value


def _template(value: Any) -> str:
    if value is None:
        return DEFAULT_TEMPLATE
    if not isinstance(value, str):
        raise RedirectConfigError("template: plain text")
    if len(value) > 4 * MAX_TEMPLATE:  # bound the work before cleaning
        raise RedirectConfigError(f"template: at most {MAX_TEMPLATE} characters")
    text = plain_text(value)
    if not text:
        return DEFAULT_TEMPLATE
    if len(text) > MAX_TEMPLATE:
        raise RedirectConfigError(f"template: at most {MAX_TEMPLATE} characters, got {len(text)}")
    names = _PLACEHOLDER.findall(text)
    strange = sorted({n for n in names if n not in _KNOWN})
    if strange:
        shown = ", ".join("{" + n[:20] + "}" for n in strange[:3])
        raise RedirectConfigError(f"template: unknown placeholder {shown}; use {{link}}, {{name}}")
    if "link" not in names:
        raise RedirectConfigError("template: it must contain {link}, the way to continue")
    return text


def _chat_url(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RedirectConfigError("chat page: an https URL, or empty")
    url = value.strip()
    if not url:
        return ""
    if len(url) > MAX_CHAT_URL:
        raise RedirectConfigError(f"chat page: at most {MAX_CHAT_URL} characters")
    if not url.lower().startswith("https://"):
        raise RedirectConfigError("chat page: must start with https://")
    if not _URL_CHARS.fullmatch(url) or "#" in url:
        raise RedirectConfigError(
            "chat page: no fragment (#); spaces, quotes and non-ASCII characters percent-encoded"
        )
    authority = url[len("https://") :].split("/", 1)[0].split("?", 1)[0]
    if not authority or "@" in authority:
        raise RedirectConfigError("chat page: https://host/path, without a user name or password")
    return url


def render_redirect(template: str, *, link: str, name: str | None) -> str:
    """The reply's text: placeholders replaced once, left to right, so a name that
    reads "{link}" stays a name."""
    first = " ".join((name or "").split()[:1])[:40]
    values = {"link": link, "name": f" {first}" if first else ""}
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def redirect_reason(channel: Channel) -> str:
    """What the timeline says."""
    label = _LABEL.get(channel, channel.value)
    return f"account question on {label}: redirected to a verified channel"


def should_redirect(
    *,
    channel: Channel,
    sensitive: bool,
    config: RedirectConfig,
    last_redirect_at: datetime | None,
    now: datetime,
) -> tuple[bool, str]:
    """Whether this message gets the redirect reply, and why (or why not)."""
    if channel not in SOCIAL:
        return False, f"{channel.value} is not a social DM"
    if not sensitive:
        return False, "not an account question"
    if not config.enabled:
        return False, "the inbox's redirect is off"
    if last_redirect_at is not None and now - last_redirect_at < COOLDOWN:
        return False, "already redirected in the last 24 hours"
    return True, redirect_reason(channel)


_PURPOSE = "redirect"
MAX_TOKEN = 100


def link_token(redirect_id: int, expires: datetime, secret: str) -> str:
    """The redirect link's token: the id and its expiry, signed (128-bit MAC)."""
    return sign_until(_PURPOSE, redirect_id, int(expires.timestamp()), secret)


def read_link(token: str, now: datetime, secret: str) -> tuple[int, bool] | None:
    """The redirect id a token of ours names, and whether it has expired; None for
    anything we did not sign. Only a signed token is told it expired."""
    if len(token) > MAX_TOKEN:
        return None
    # 0 as "now": the signature alone (verify_until then accepts any expiry)
    found = verify_until(_PURPOSE, token, 0, secret)
    if found is None:
        return None
    return found, int(now.timestamp()) >= int(token.split(".")[1])
