"""`threadline demo`: a workspace that looks like a Tuesday at a small shop.

Everything is seeded through the real inbound path (raw emails, API payloads
and each provider's own webhook bodies through the bus), so the demo shows what
production would store. Every messaging inbox is in sandbox mode: replies go to
the local stand-ins for Twilio, Meta and Telegram, and the customer simulator
shows them as the customer's phone would.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import partial
from typing import Any
from urllib.parse import urlencode

import httpx
import sqlalchemy as sa

from threadline.actions.agents import set_duty
from threadline.actions.inboxes import add_inbox
from threadline.actions.receipts import Payload, ReceiptOutcome
from threadline.actions.replies import send_reply
from threadline.actions.users import add_user, issue_token
from threadline.bootstrap import Container
from threadline.channels import registry
from threadline.channels.twilio import voice
from threadline.core.model import Channel, ConversationStatus
from threadline.jobs.delivery import Delivery
from threadline.jobs.runner import JobRunner
from threadline.settings import Settings
from threadline.storage.db import Tx
from threadline.storage.tables import users
from threadline.web.app import create_app
from threadline.web.simulator import payloads

__all__ = ["DEMO_LOGIN", "seed_demo", "simulator_url"]

DEMO_LOGIN = ("agent@acme.test", "threadline-demo")
SUPPORT = "support@acme.test"
TWILIO_NUMBER = "+14155550100"
AGENT_PHONE = "+14155550199"
# Fixed, fake credentials in each provider's shape: the sandboxes check the
# shape (and webhooks the signature), never the value.
_TWILIO = {"account_sid": "AC" + "3f9c2a7be1d04c5f8a6b2d9e0c1f4a7b", "auth_token": "7e3d" * 8}
_META = {
    "app_secret": "demo-meta-app-secret",
    "access_token": "demo-meta-access-token",
    "verify_token": "demo-meta-verify-token",
}
_BUSINESS_HOURS = {
    "timezone": "America/Los_Angeles",
    "days": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
}
_INBOXES: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("email", "Acme Support", SUPPORT, {"webhook_secret": "demo-webhook-secret"}),
    ("api", "Acme app", "acme-app", {}),
    # Settings → Inboxes → Acme on the web → "Open a test page" chats with yourself.
    ("chat", "Acme on the web", "acme-web", {"greeting": "Hi! Ask us anything about your order."}),
    ("sms", "Acme SMS", TWILIO_NUMBER, {**_TWILIO, "sandbox": True}),
    (
        "voice",
        "Acme Phone",
        TWILIO_NUMBER,
        {**_TWILIO, "sandbox": True, "hours": _BUSINESS_HOURS},
    ),
    ("whatsapp", "Acme WhatsApp", "106540352242922", {**_META, "sandbox": True}),
    ("messenger", "Acme on Messenger", "104938271615243", {**_META, "sandbox": True}),
    ("instagram", "@acme.shop", "17841405822304914", {**_META, "sandbox": True}),
    (
        "telegram",
        "Acme bot",
        "acme_support_bot",
        {
            "bot_token": "7215508365:AAG3kR9xVd2mQw7LpZt1Yc4NbHs8EuFo6Jk",
            "secret_token": "demo-telegram-secret",
            "sandbox": True,
        },
    ),
)


def simulator_url(settings: Settings) -> str:
    """Where an admin plays the customer: the line the demo prints after signing in."""
    return f"{settings.base_url()}/simulator"


def _email(
    sender: str,
    name: str,
    subject: str,
    body: str,
    *,
    reply_to: str | None = None,
    when_hours_ago: float = 0.0,
    container: Container,
) -> tuple[bytes, str]:
    msg = EmailMessage()
    msg["From"] = f"{name} <{sender}>"
    msg["To"] = f"Acme Support <{SUPPORT}>"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(container.clock.now() - timedelta(hours=when_hours_ago))
    mid = make_msgid(domain=sender.split("@")[1])
    msg["Message-ID"] = mid
    if reply_to:
        msg["In-Reply-To"] = reply_to
        msg["References"] = reply_to
    msg.set_content(body)
    return msg.as_bytes(), mid


async def seed_demo(container: Container) -> str | None:
    """Seed once; returns a fresh API token for the demo agent, or None if already seeded."""
    await container.start(jobs=False)
    try:
        token = await _seed(container)
        if token is not None:
            await _deliver(container)
        return token
    finally:
        await container.aclose()


async def _deliver(c: Container) -> None:
    """Send the seeded replies now, to the sandboxes in an in-process copy of the app.

    The sandboxes are routes of the web app, which is not listening yet; a job
    runner started with `serve` could reach them before the socket is bound and
    then wait out a retry backoff. Over ASGI the replies arrive before anyone
    can look.
    """
    app: Any = create_app(c, manage_lifecycle=False)  # Litestar's ASGI types are narrower
    # httpx logs every request at INFO, Telegram's token-bearing URLs included;
    # the banner should be the first thing a new user reads.
    httpx_log = logging.getLogger("httpx")
    level = httpx_log.level
    httpx_log.setLevel(logging.WARNING)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
            sandbox = f"{c.settings.base_url()}/sandbox"
            context = registry.SenderContext(http=http, sandbox_base=sandbox)
            delivery = Delivery(
                c.bus,
                registry.senders(context, {"email": c.senders["email"]}),
                public_base=c.settings.base_url(),
            )
            runner = JobRunner(
                c.bus, {"deliver": delivery}, on_give_up={"deliver": delivery.give_up}
            )
            await runner.run_due()
    finally:
        httpx_log.setLevel(level)


class _Seeder:
    """The inbound path, fed the bodies each provider would post."""

    def __init__(self, c: Container, inbox_ids: Mapping[str, int], agent_id: int) -> None:
        self.c = c
        self.ids = inbox_ids
        self.agent_id = agent_id
        self.base = c.settings.base_url()

    async def ingest(
        self, channel: str, source: str, body: bytes, context: dict[str, Any]
    ) -> int | None:
        outcomes = await self.c.bus.ingest_all(Payload(self.ids[channel], source, body, context))
        bad = [o for o in outcomes if o.status == "quarantined"]
        if bad:
            raise RuntimeError(f"demo {source} payload was quarantined: {bad[0].detail}")
        return _conversation(outcomes)

    async def mail(
        self, sender: str, name: str, subject: str, body: str, **kw: Any
    ) -> tuple[int | None, str]:
        raw, mid = _email(sender, name, subject, body, container=self.c, **kw)
        conv = await self.ingest("email", "email", raw, {"rcpt_tos": [SUPPORT]})
        return conv, mid

    async def api(
        self, external_id: str, email: str, name: str, text: str, mid: str, phone: str = ""
    ) -> int | None:
        customer = {"external_id": external_id, "email": email, "name": name}
        if phone:
            customer["phone"] = phone
        body = {"id": mid, "customer": customer, "text": text}
        return await self.ingest("api", "api", json.dumps(body).encode(), {})

    async def sms(self, phone: str, text: str) -> int | None:
        inbox = await self.c.bus.inbox(self.ids["sms"])
        req = payloads.sms(inbox, self.base, phone=phone, text=text)
        return await self.ingest("sms", "twilio_sms", req.body, {"url": self.base + req.path})

    async def voicemail(self, phone: str, caller_name: str, transcript: str) -> None:
        inbox = await self.c.bus.inbox(self.ids["voice"])
        hook_of = {path: hook for hook, path in voice.HOOKS.items()}
        steps = payloads.call(
            inbox, self.base, phone=phone, outcome="voicemail", transcript=transcript
        )
        for i, req in enumerate(steps):
            body = req.body
            if i == 0:  # Twilio adds CallerName when caller-name lookup is on
                body += b"&" + urlencode({"CallerName": caller_name}).encode()
            hook = hook_of[req.path.removeprefix(voice.VOICE_PATH)]
            context = {"hook": hook, "url": self.base + req.path}
            await self.ingest("voice", "twilio_voice", body, context)

    async def meta(self, channel: str, user_id: str, name: str, text: str) -> int | None:
        inbox = await self.c.bus.inbox(self.ids[channel])
        req = payloads.meta_message(inbox, user_id=user_id, name=name, text=text)
        return await self.ingest(channel, "meta", req.body, {})

    async def telegram(self, user_id: int, first_name: str, text: str) -> int | None:
        inbox = await self.c.bus.inbox(self.ids["telegram"])
        req = payloads.telegram(inbox, user_id=user_id, first_name=first_name, text=text)
        return await self.ingest("telegram", "telegram", req.body, {})

    async def reply(
        self,
        conv: int | None,
        text: str,
        channel: Channel | None = None,
        status: ConversationStatus | None = None,
    ) -> None:
        assert conv is not None
        await self.c.bus.execute(
            lambda tx: send_reply(
                tx,
                self.c.bus.cfg,
                conversation_id=conv,
                author_id=self.agent_id,
                text=text,
                channel=channel,
                status=status,
            )
        )


def _add_inbox(
    channel: str, name: str, address: str, config: dict[str, Any], secret: str, tx: Tx
) -> int:
    return add_inbox(tx, channel=channel, name=name, address=address, config=config, secret=secret)


def _conversation(outcomes: list[ReceiptOutcome]) -> int | None:
    return next((o.conversation_id for o in outcomes if o.conversation_id is not None), None)


async def _seed(c: Container) -> str | None:
    exists = await c.db.read(
        lambda conn: conn.execute(
            sa.select(users.c.id).where(users.c.email == DEMO_LOGIN[0])
        ).first()
    )
    if exists is not None:
        return None
    hashed = await c.passwords.hash(DEMO_LOGIN[1])
    agent_id = await c.bus.execute(
        lambda tx: add_user(
            tx,
            email=DEMO_LOGIN[0],
            name="Sam Rivera",
            role="admin",
            password_hash=hashed,
            actor="demo",
        )
    )
    # On duty with a phone, so a simulated call rings Sam in business hours.
    await c.bus.execute(lambda tx: set_duty(tx, agent_id, on_duty=True, phone=AGENT_PHONE))
    ids: dict[str, int] = {}
    for channel, name, address, config in _INBOXES:
        ids[channel] = await c.bus.execute(
            partial(_add_inbox, channel, name, address, config, c.bus.cfg.secret_key)
        )
    await c.bus.reload_inboxes()
    await _stories(_Seeder(c, ids, agent_id))
    return await c.bus.execute(
        lambda tx: issue_token(tx, email=DEMO_LOGIN[0], name="demo", actor="demo")
    )


async def _stories(s: _Seeder) -> None:
    # Ana: a late order by email, then from the shop's app (which knows her
    # phone), then an SMS from that phone: one conversation across three channels.
    ana, _ = await s.mail(
        "ana@example.com",
        "Ana Souza",
        "Order #4417 hasn't arrived",
        "Hi, my order #4417 was due Friday and tracking hasn't moved since "
        "Wednesday. Can you check?\n\nThanks,\nAna",
        when_hours_ago=26,
    )
    await s.reply(
        ana, "Hi Ana, I've asked the carrier to trace it and will update you by tomorrow."
    )
    await s.api(
        "cust-1001",
        "ana@example.com",
        "Ana Souza",
        "Any news on #4417? The tracking page still shows 'in transit'.",
        "demo-api-1",
        phone="+14155550123",
    )
    await s.sms(
        "+14155550123",
        "Ana here again: tracking now says 'delivery attempted' but nobody rang. "
        "Can they try again tomorrow?",
    )

    # Bob: a billing question, answered and resolved.
    bob, _ = await s.mail(
        "bob@contoso.test",
        "Bob Lee",
        "Invoice copy for October",
        "Could you send me a copy of the October invoice with our VAT number?",
    )
    await s.reply(
        bob,
        "Hi Bob, the corrected invoice is attached to your account page now.",
        status=ConversationStatus.RESOLVED,
    )

    # Chen: starts in the app, follows up by email with a new matter.
    chen = await s.api(
        "cust-1002",
        "chen@example.org",
        "Chen Wei",
        "The app logs me out every few minutes on Android.",
        "demo-api-2",
    )
    await s.reply(
        chen, "Thanks Chen, which app version are you on? (Settings → About)", channel=Channel.API
    )
    await s.mail(
        "chen@example.org",
        "Chen Wei",
        "Refund for duplicate charge",
        "I was charged twice for order #5120 on the 3rd. Please refund one of them.",
    )

    # Dana: an urgent email, unassigned.
    await s.mail(
        "dana@fabrikam.test",
        "Dana Kim",
        "URGENT: wrong item shipped",
        "We received 40 units of SKU-220 instead of SKU-202 and our event is "
        "on Thursday. Please call me.",
    )

    # Marco: WhatsApp, about a delivery, answered on WhatsApp.
    marco = await s.meta(
        "whatsapp",
        "393471234567",
        "Marco Bianchi",
        "Ciao! Order #5261 says 'out for delivery' but I'm out until 6pm. "
        "Can the courier leave it with my neighbour at no. 14?",
    )
    await s.reply(
        marco,
        "Hi Marco, done: the courier has a note to leave #5261 with your neighbour at no. 14.",
    )

    # Priya: an account change asked on a social DM, where nothing proves who
    # she is; the agent sends her to the verified channel.
    priya = await s.meta(
        "messenger",
        "7519834402218665",
        "",
        "Hi, I'm Priya Nair. Can you change the email on my account from "
        "priya.nair@example.com to priya@nairdesign.test? I can't get into the old one.",
    )
    await s.reply(
        priya,
        "Hi Priya, for your security we can only change account details from the "
        "email on file. Could you reply from priya.nair@example.com, or use "
        "Settings → Account in the app?",
    )

    # Leo: Telegram, a product question, answered on Telegram.
    leo = await s.telegram(
        5512048391, "Leo", "Hi! Is the Trailhead 40L backpack waterproof or only water-resistant?"
    )
    await s.reply(
        leo, "Hi Leo, it's water-resistant (PU-coated); add the rain cover for downpours."
    )

    # Grace: a call nobody took, a voicemail with its transcription: a callback task.
    await s.voicemail(
        "+15035550142",
        "Grace Okafor",
        "Hi, this is Grace Okafor. I'd like to move my furniture delivery from "
        "Thursday to Saturday if possible. Please call me back on this number. Thanks.",
    )

    # Omar: an Instagram DM, still waiting for an answer.
    await s.meta(
        "instagram",
        "6813307719462201",
        "",
        "Hey! Do you ship the linen overshirt from your last post to Canada?",
    )
