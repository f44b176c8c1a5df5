"""The email channel's seams: the parser the bus calls and the senders jobs call."""

from __future__ import annotations

import email.policy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosmtplib

from threadline.channels.email.authn import Verdict
from threadline.channels.email.compose import compose_reply
from threadline.channels.email.parse import parse_email
from threadline.core.model import DeliveryError, OutboundMessage, ParseResult
from threadline.ports import Inbox

__all__ = ["EmailParser", "OutboxSender", "SmtpRelay", "SmtpSender", "build_message"]

MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


class EmailParser:
    # email.policy.default costs ~1 ms a message (STACK.md gotcha 18): off the loop.
    offload = True

    def __call__(self, inbox: Inbox, body: bytes, context: Mapping[str, Any]) -> ParseResult:
        return parse_email(
            body,
            rcpt_tos=tuple(context.get("rcpt_tos", ())),
            mail_from=context.get("mail_from"),
            our_domains=(_domain(inbox.address),),
            max_attachment_bytes=int(
                inbox.config.get("max_attachment_bytes", MAX_ATTACHMENT_BYTES)
            ),
            # Stored with the receipt, so a replay judges the sender as we did then.
            auth=Verdict.from_context(context.get("auth")),
        )


def build_message(inbox: Inbox, msg: OutboundMessage, now: datetime) -> tuple[bytes, str]:
    """The RFC 5322 bytes to send and the envelope sender (a VERP bounce address)."""
    domain = _domain(inbox.address)
    from_name = msg.author_name or inbox.name
    if msg.author_name and inbox.name:
        from_name = f"{msg.author_name} ({inbox.name})"
    subject = msg.subject or f"Your conversation with {inbox.name}"
    if f"[#{msg.conversation_id}]" not in subject:
        subject = f"{subject} [#{msg.conversation_id}]"
    composed = compose_reply(
        from_addr=inbox.address,
        from_name=from_name,
        to=msg.recipient,
        subject=subject,
        text=msg.text,
        html=msg.html,
        message_id=msg.provider_message_id or f"msg-{msg.message_id}@{domain}",
        in_reply_to=msg.in_reply_to,
        references=msg.references,
        reply_to=f"reply+{msg.reply_token}@{domain}" if msg.reply_token else None,
        auto_reply=msg.auto_reply,
        date=now,
        attachments=[(f.filename, f.content_type, f.data) for f in msg.attachments],
        reply=msg.is_reply,
    )
    envelope_from = f"bounce+{msg.bounce_token}@{domain}" if msg.bounce_token else inbox.address
    return composed.as_bytes(policy=email.policy.SMTP), envelope_from


@dataclass(frozen=True, slots=True)
class SmtpRelay:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    starttls: bool | None = None  # None: use it when the server offers it
    use_tls: bool = False
    timeout: float = 30.0


class SmtpSender:
    """Outbound through a relay (the business's provider or its own MTA)."""

    def __init__(self, default_relay: SmtpRelay | None) -> None:
        self.default_relay = default_relay

    def _relay(self, inbox: Inbox) -> SmtpRelay | None:
        cfg = inbox.config.get("smtp")
        if isinstance(cfg, Mapping) and cfg.get("host"):
            return SmtpRelay(
                host=str(cfg["host"]),
                port=int(cfg.get("port", 587)),
                username=cfg.get("username"),
                password=cfg.get("password"),
                starttls=cfg.get("starttls"),
                use_tls=bool(cfg.get("tls", False)),
            )
        return self.default_relay

    async def send(self, inbox: Inbox, message: OutboundMessage) -> str | None:
        relay = self._relay(inbox)
        if relay is None:
            raise DeliveryError(
                "no outbound SMTP relay is configured for this inbox", permanent=True
            )
        raw, envelope_from = build_message(inbox, message, datetime.now(UTC))
        try:
            await aiosmtplib.send(
                raw,
                sender=envelope_from,
                recipients=[message.recipient],
                hostname=relay.host,
                port=relay.port,
                username=relay.username,
                password=relay.password,
                start_tls=relay.starttls,
                use_tls=relay.use_tls,
                timeout=relay.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            reasons = "; ".join(f"{e.code} {e.message}" for e in exc.recipients)
            raise DeliveryError(
                f"the mail server refused the recipient: {reasons}", permanent=True
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            # 5xx is the server's final word (RFC 5321 §4.2.1); 4xx asks us to come back.
            raise DeliveryError(
                f"the mail server answered {exc.code} {exc.message}", permanent=exc.code >= 500
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"could not reach the mail server: {exc}") from exc
        return message.provider_message_id


class OutboxSender:
    """Sandbox mode: writes each message to a folder as an .eml file instead of sending."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, inbox: Inbox, message: OutboundMessage) -> str | None:
        raw, _ = build_message(inbox, message, datetime.now(UTC))
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / f"{message.message_id:08d}.eml").write_bytes(raw)
        return message.provider_message_id
