"""The connect-an-inbox forms, one per provider, and the webhook URLs to paste.

A provider's fields are the options `threadline inbox add` takes for it, under
the same config keys the channels read. Pure: no I/O, so the forms, the parsing
and the URLs are tested without a server.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from threadline.actions.errors import ActionError
from threadline.core.chat_config import MAX_GREETING, MAX_ORIGIN, MAX_ORIGINS, widget_snippet

__all__ = [
    "CHAT_FIELDS",
    "MAX_VALUE",
    "PROVIDERS",
    "Field",
    "Provider",
    "parse_chat_form",
    "parse_connect",
    "webhook_urls",
]

MAX_VALUE = 1000  # characters in one setting: longer than any provider's token or URL


@dataclass(frozen=True, slots=True)
class Field:
    key: str  # the config key; "smtp.host" is {"smtp": {"host": …}}
    label: str
    secret: bool = False
    required: bool = False
    hint: str = ""
    kind: str = "text"  # the input type: text, url, number
    pattern: str | None = None  # the whole value must match

    @property
    def input_type(self) -> str:
        return "password" if self.secret else self.kind


@dataclass(frozen=True, slots=True)
class Provider:
    key: str  # the form's id
    channel: str
    title: str
    address: Field  # what names the inbox at the provider
    fields: tuple[Field, ...]
    sandbox: bool = True  # may send to the local stand-in in sandbox mode


_TWILIO = (
    Field("account_sid", "Account SID", required=True, pattern=r"AC[0-9a-fA-F]{32}", hint="AC…"),
    Field("auth_token", "Auth token", secret=True, required=True, hint="signs Twilio's webhooks"),
)
_META = (
    Field("access_token", "Access token", secret=True, required=True, hint="system-user or Page"),
    Field("app_secret", "App secret", secret=True, required=True, hint="signs Meta's webhooks"),
    Field(
        "verify_token",
        "Verify token",
        secret=True,
        required=True,
        hint="any phrase; type the same one into Meta's webhook setup",
    ),
)

PROVIDERS: tuple[Provider, ...] = (
    Provider(
        "twilio_sms",
        "sms",
        "Twilio SMS",
        Field("address", "Twilio phone number", required=True, hint="E.164, e.g. +14155550100"),
        (
            *_TWILIO,
            Field(
                "messaging_service_sid",
                "Messaging Service SID",
                pattern=r"MG[0-9a-fA-F]{32}",
                hint="Twilio then picks the sender",
            ),
        ),
    ),
    Provider(
        "twilio_voice",
        "voice",
        "Twilio Voice",
        Field("address", "Twilio phone number", required=True, hint="E.164, e.g. +14155550100"),
        _TWILIO,
    ),
    Provider(
        "whatsapp",
        "whatsapp",
        "WhatsApp (Meta Cloud API)",
        Field("address", "Phone number ID", required=True, pattern=r"\d{1,30}"),
        _META,
    ),
    Provider(
        "messenger",
        "messenger",
        "Messenger (Meta)",
        Field("address", "Facebook Page ID", required=True, pattern=r"\d{1,30}"),
        _META,
    ),
    Provider(
        "instagram",
        "instagram",
        "Instagram (Meta)",
        Field("address", "Instagram account ID", required=True, pattern=r"\d{1,30}"),
        (
            *_META,
            Field(
                "page_id",
                "Linked Facebook Page ID",
                pattern=r"\d{1,30}",
                hint="when you connect through a Page rather than Instagram Login",
            ),
        ),
    ),
    Provider(
        "telegram",
        "telegram",
        "Telegram bot",
        Field("address", "Bot username", required=True, pattern=r"@?[A-Za-z0-9_]{5,64}"),
        (
            Field("bot_token", "Bot token", secret=True, required=True, hint="from @BotFather"),
            Field(
                "secret_token",
                "Webhook secret token",
                secret=True,
                required=True,
                pattern=r"[A-Za-z0-9_-]{1,256}",
                hint="1-256 of A-Z, a-z, 0-9, _ and -; pass the same to setWebhook",
            ),
        ),
    ),
    Provider(
        "email",
        "email",
        "Email",
        Field("address", "Support address", required=True, hint="e.g. support@example.com"),
        (
            Field(
                "webhook_secret",
                "Forwarding webhook secret",
                secret=True,
                hint="signs raw mail POSTed by a forwarding service",
            ),
            Field(
                "smtp.host",
                "Outbound SMTP relay host",
                hint="empty: the server's relay (THREADLINE_RELAY_HOST)",
            ),
            Field(
                "smtp.port",
                "SMTP relay port",
                kind="number",
                pattern=r"\d{1,5}",
                hint="default 587",
            ),
            Field("smtp.username", "SMTP username"),
            Field("smtp.password", "SMTP password", secret=True),
        ),
        sandbox=False,
    ),
    Provider(
        "api",
        "api",
        "Your own app (API)",
        Field("address", "App name", required=True, hint="e.g. acme-app"),
        (
            Field(
                "webhook_url",
                "Reply webhook URL",
                kind="url",
                pattern=r"https?://\S+",
                hint="where replies are POSTed",
            ),
            Field("webhook_secret", "Reply webhook secret", secret=True, hint="signs those POSTs"),
        ),
        sandbox=False,
    ),
    Provider(
        "chat",
        "chat",
        "Live chat (website widget)",
        Field(
            "address",
            "Widget key",
            pattern=r"[a-z0-9_-]{3,64}",
            hint="empty: one is made up (chat_…); it is public, in the snippet",
        ),
        (),  # the branding form is its own (templates/ui/settings/_chat_form.html)
        sandbox=False,
    ),
)
BY_KEY = {p.key: p for p in PROVIDERS}
BY_CHANNEL = {p.channel: p for p in PROVIDERS}


def _value(form: Mapping[str, str], field: Field) -> str:
    raw = form.get(field.key, "")
    value = raw.strip() if isinstance(raw, str) else ""
    if len(value) > MAX_VALUE:
        raise ActionError(f"{field.label} has at most {MAX_VALUE} characters")
    if not value:
        if field.required:
            raise ActionError(f"{field.label} is required")
        return ""
    if field.pattern and not re.fullmatch(field.pattern, value):
        raise ActionError(f"{field.label} does not look right ({field.hint or 'check it'})")
    return value


def parse_connect(
    provider: Provider, form: Mapping[str, str], *, sandbox_allowed: bool
) -> tuple[str, str, dict[str, Any]]:
    """The name, address and config a connect form asks for; raises ActionError."""
    name = form.get("name", "").strip() or provider.title
    address = _value(form, provider.address)
    config: dict[str, Any] = {}
    for field in provider.fields:
        value = _value(form, field)
        if not value:
            continue
        section, _, key = field.key.rpartition(".")
        target = config.setdefault(section, {}) if section else config
        if field.kind == "number":
            if not 0 < int(value) < 65536:
                raise ActionError(f"{field.label} must be a port number, 1 to 65535")
            target[key] = int(value)
        else:
            target[key] = value
    if provider.sandbox and sandbox_allowed and form.get("sandbox") == "1":
        config["sandbox"] = True
    return name, address, config


# The chat form's fields and how many characters each may bring: 20 origins of
# up to 300 characters, one per line; a greeting whose CRLFs may double it.
CHAT_FIELDS = {
    "name": 200,
    "address": 64,
    "allowed_origins": MAX_ORIGINS * (MAX_ORIGIN + 2),
    "color": 7,
    "greeting": 2 * MAX_GREETING,
    "avatar_url": MAX_VALUE,
    "position": 10,
    "prechat": 10,
}


def parse_chat_form(form: Mapping[str, str]) -> tuple[str, str, dict[str, Any]]:
    """The name, widget key and chat settings a chat form asks for. Only split and
    bounded here: core/chat_config.py checks them, when the inbox is written."""
    for key, limit in CHAT_FIELDS.items():
        if len(form.get(key, "")) > limit:
            raise ActionError(f"{key.replace('_', ' ')} has at most {limit} characters")
    name = form.get("name", "").strip() or "Live chat"
    origins = [o for o in re.split(r"[\s,]+", form.get("allowed_origins", "")) if o]
    config: dict[str, Any] = {"allowed_origins": origins}
    for key in ("color", "greeting", "avatar_url", "position", "prechat"):
        if form.get(key, "").strip():  # left empty: the default
            config[key] = form[key]
    return name, form.get("address", "").strip().lower(), config


def webhook_urls(
    channel: str, inbox_id: int, base: str, smtp: str | None, *, address: str = ""
) -> list[tuple[str, str]]:
    """(what to do with it, the URL) for each address the provider must be given.
    ``smtp`` is our SMTP server's host:port, when it runs; ``address`` the inbox's."""
    if channel == "sms":
        return [
            ("Messaging webhook (“A message comes in”, HTTP POST)", f"{base}/webhooks/twilio/sms"),
            (
                "Delivery statuses (sent with each reply; nothing to paste)",
                f"{base}/webhooks/twilio/status",
            ),
        ]
    if channel == "voice":
        return [("Voice webhook (“A call comes in”, HTTP POST)", f"{base}/webhooks/twilio/voice")]
    if channel in ("whatsapp", "messenger", "instagram"):
        return [
            ("Callback URL, with the verify token, subscribed to messages", f"{base}/webhooks/meta")
        ]
    if channel == "telegram":
        return [("setWebhook url, with the secret token", f"{base}/webhooks/telegram/{inbox_id}")]
    if channel == "email":
        urls = [
            ("Forwarding service: POST the raw message here", f"{base}/webhooks/email/{inbox_id}")
        ]
        if smtp:
            urls.append(("Or deliver by SMTP (MX or forward) to", smtp))
        return urls
    if channel == "api":
        return [("Your app posts customers' messages to", f"{base}/api/v1/messages")]
    if channel == "chat":
        return [("Paste on every page of your site, before </body>", widget_snippet(base, address))]
    return []
