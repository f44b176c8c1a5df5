"""The jobs of live chat by email: ``chat_followup``, ``chat_transcript``,
``chat_missed`` and ``notify_email`` (docs/widget.md, "Agents' side").

The decisions and the writes are actions (actions/chat_mail.py,
actions/chat_missed.py); these read the business profile they need (its name,
its time zone) and send what is not a conversation message (a transcript, an
alert to agents) through the email channel's sender, as the delivery job sends
a reply.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

import structlog

from threadline.actions.chat_mail import follow_up, transcript_status
from threadline.actions.chat_missed import alert_missed_chat
from threadline.bus import Bus
from threadline.core.chat_mail import Mail, time_zone, transcript_mail
from threadline.core.model import Channel, DeliveryError, OutboundMessage
from threadline.core.tokens import new_message_id, sign_id
from threadline.jobs.queue import Job
from threadline.jobs.runner import JobFailed
from threadline.ports import Sender
from threadline.queries.chat import visitor_state
from threadline.queries.chat_mail import chat_lines, visitor_messages
from threadline.queries.profile import business_profile
from threadline.settings import Settings

__all__ = ["ChatFollowup", "ChatMissed", "ChatTranscript", "NotifyEmail"]

log = structlog.get_logger(__name__)


async def _profile(bus: Bus, settings: Settings) -> tuple[str | None, tzinfo]:
    found = await bus.db.read(lambda conn: business_profile(conn, settings))
    return found.get("name") or None, time_zone(found.get("time_zone"))


async def _send(
    bus: Bus,
    senders: Mapping[str, Sender],
    job: Job,
    *,
    inbox_id: int,
    to: str,
    mail: Mail,
    conversation_id: int,
    reply_to_conversation: bool,
    auto: bool,
) -> None:
    """Send a mail that is no message of the conversation, from an email inbox."""
    sender = senders.get(Channel.EMAIL.value)
    if sender is None:
        raise JobFailed("no email sender is configured")
    try:
        inbox = await bus.inbox(inbox_id)
    except LookupError as exc:
        raise JobFailed(f"the email inbox {inbox_id} no longer exists") from exc
    secret = bus.cfg.secret_key
    outbound = OutboundMessage(
        # No messages row: the job's id, negative, names the mail where a sender
        # wants a number (the sandbox outbox's file), and can be no message's.
        message_id=-job.id,
        conversation_id=conversation_id,
        channel=Channel.EMAIL,
        recipient=to,
        text=mail.text,
        html=mail.html,
        subject=mail.subject,
        provider_message_id=new_message_id(inbox.address.rpartition("@")[2]),
        reply_token=sign_id("reply", conversation_id, secret) if reply_to_conversation else None,
        auto_reply=auto,
        is_reply=False,
    )
    try:
        await sender.send(inbox, outbound)
    except DeliveryError as exc:
        if exc.permanent:
            raise JobFailed(exc.reason) from exc
        raise


class ChatFollowup:
    """Mail a visitor the replies they left before reading (or check again later)."""

    def __init__(self, bus: Bus, settings: Settings) -> None:
        self.bus, self.settings = bus, settings

    async def __call__(self, job: Job) -> None:
        visitor_id, seq = int(job.payload["visitor_id"]), int(job.payload["seq"])
        check = int(job.payload.get("check", 0))
        business, zone = await _profile(self.bus, self.settings)
        cfg = self.bus.cfg
        outcome = await self.bus.execute(
            lambda tx: follow_up(
                tx, cfg, visitor_id=visitor_id, seq=seq, check=check, business=business, zone=zone
            )
        )
        log.info("chat.followup", visitor=visitor_id, seq=seq, check=check, outcome=outcome)


class ChatTranscript:
    """Mail a visitor their chat as they saw it, up to when they asked."""

    def __init__(self, bus: Bus, senders: Mapping[str, Sender], settings: Settings) -> None:
        self.bus, self.senders, self.settings = bus, senders, settings

    async def __call__(self, job: Job) -> None:
        p: dict[str, Any] = job.payload
        visitor_id, upto = int(p["visitor_id"]), int(p["upto"])
        state = await self.bus.db.read(lambda conn: visitor_state(conn, visitor_id))
        if state is None:
            raise JobFailed("the chat visitor no longer exists")
        rows = await self.bus.db.read(lambda conn: visitor_messages(conn, visitor_id, upto=upto))
        business, zone = await _profile(self.bus, self.settings)
        # The business's name, else its follow-up inbox's ("Acme Support"), as the
        # follow-up mail names it.
        try:
            name = business or (await self.bus.inbox(int(p["inbox_id"]))).name
        except LookupError as exc:
            raise JobFailed("the follow-up inbox no longer exists") from exc
        mail = transcript_mail(
            chat_lines(rows, visitor=state.name, business=name), business=name, zone=zone
        )
        await _send(
            self.bus,
            self.senders,
            job,
            inbox_id=int(p["inbox_id"]),
            to=str(p["to"]),
            mail=mail,
            conversation_id=int(p["conversation_id"]),
            reply_to_conversation=True,
            auto=False,
        )
        entry_id, to = int(p["entry_id"]), str(p["to"])
        await self.bus.execute(lambda tx: transcript_status(tx, entry_id, to))

    async def give_up(self, job: Job, reason: str) -> None:
        entry_id, to = int(job.payload["entry_id"]), str(job.payload["to"])
        await self.bus.execute(lambda tx: transcript_status(tx, entry_id, to, reason))


class ChatMissed:
    """Alert the agents when a chat's first response is due and nobody answered."""

    def __init__(self, bus: Bus, settings: Settings) -> None:
        self.bus, self.settings = bus, settings

    async def __call__(self, job: Job) -> None:
        p: dict[str, Any] = job.payload
        conversation_id, since = int(p["conversation_id"]), str(p["since"])
        chat_inbox_id = int(p["inbox_id"])
        _, zone = await _profile(self.bus, self.settings)
        base = self.settings.base_url()
        alerted = await self.bus.execute(
            lambda tx: alert_missed_chat(
                tx,
                conversation_id=conversation_id,
                since=since,
                chat_inbox_id=chat_inbox_id,
                base_url=base,
                zone=zone,
            )
        )
        log.info("chat.missed", conversation=conversation_id, alerted=alerted)


class NotifyEmail:
    """One alert to one agent (composed when it was decided)."""

    def __init__(self, bus: Bus, senders: Mapping[str, Sender]) -> None:
        self.bus, self.senders = bus, senders

    async def __call__(self, job: Job) -> None:
        p: dict[str, Any] = job.payload
        await _send(
            self.bus,
            self.senders,
            job,
            inbox_id=int(p["inbox_id"]),
            to=str(p["to"]),
            mail=Mail(subject=str(p["subject"]), text=str(p["text"])),
            conversation_id=int(p["conversation_id"]),
            reply_to_conversation=False,
            auto=True,
        )
