"""`threadline demo`: a workspace that looks like a Tuesday at a small shop.

Everything is seeded through the real inbound path (raw emails and API
payloads through the bus), so the demo shows what production would store.
"""

from __future__ import annotations

import json
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import anyio.to_thread
import sqlalchemy as sa
from argon2 import PasswordHasher

from threadline.actions.inboxes import add_inbox
from threadline.actions.receipts import Payload
from threadline.actions.replies import send_reply
from threadline.actions.users import add_user, issue_token
from threadline.bootstrap import Container
from threadline.core.model import Channel, ConversationStatus
from threadline.storage.tables import users

__all__ = ["DEMO_LOGIN", "seed_demo"]

DEMO_LOGIN = ("agent@acme.test", "threadline-demo")
SUPPORT = "support@acme.test"


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
        return await _seed(container)
    finally:
        await container.aclose()


async def _seed(c: Container) -> str | None:
    exists = await c.db.read(
        lambda conn: conn.execute(
            sa.select(users.c.id).where(users.c.email == DEMO_LOGIN[0])
        ).first()
    )
    if exists is not None:
        return None
    hashed = await anyio.to_thread.run_sync(PasswordHasher().hash, DEMO_LOGIN[1])
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
    email_inbox = await c.bus.execute(
        lambda tx: add_inbox(
            tx,
            channel="email",
            name="Acme Support",
            address=SUPPORT,
            config={"webhook_secret": "demo-webhook-secret"},
        )
    )
    api_inbox = await c.bus.execute(
        lambda tx: add_inbox(tx, channel="api", name="Acme app", address="acme-app", config={})
    )
    await c.bus.reload_inboxes()

    async def mail(
        sender: str, name: str, subject: str, body: str, **kw: object
    ) -> tuple[int | None, str]:
        raw, mid = _email(sender, name, subject, body, container=c, **kw)  # type: ignore[arg-type]
        out = await c.bus.ingest(Payload(email_inbox, "email", raw, {"rcpt_tos": [SUPPORT]}))
        return out.conversation_id, mid

    async def api(
        external_id: str, email: str | None, name: str, text: str, mid: str
    ) -> int | None:
        body = {
            "id": mid,
            "customer": {"external_id": external_id, "email": email, "name": name},
            "text": text,
        }
        out = await c.bus.ingest(Payload(api_inbox, "api", json.dumps(body).encode(), {}))
        return out.conversation_id

    async def reply(
        conv: int | None,
        text: str,
        channel: Channel | None = None,
        status: ConversationStatus | None = None,
    ) -> None:
        assert conv is not None
        await c.bus.execute(
            lambda tx: send_reply(
                tx,
                c.bus.cfg,
                conversation_id=conv,
                author_id=agent_id,
                text=text,
                channel=channel,
                status=status,
            )
        )

    # Ana: an email about a late order, then the same matter from the shop's app.
    ana, _ = await mail(
        "ana@example.com",
        "Ana Souza",
        "Order #4417 hasn't arrived",
        "Hi, my order #4417 was due Friday and tracking hasn't moved since "
        "Wednesday. Can you check?\n\nThanks,\nAna",
        when_hours_ago=26,
    )
    await reply(ana, "Hi Ana, I've asked the carrier to trace it and will update you by tomorrow.")
    await api(
        "cust-1001",
        "ana@example.com",
        "Ana Souza",
        "Any news on #4417? The tracking page still shows 'in transit'.",
        "demo-api-1",
    )

    # Bob: a billing question, answered and resolved.
    bob, _ = await mail(
        "bob@contoso.test",
        "Bob Lee",
        "Invoice copy for October",
        "Could you send me a copy of the October invoice with our VAT number?",
    )
    await reply(
        bob,
        "Hi Bob, the corrected invoice is attached to your account page now.",
        status=ConversationStatus.RESOLVED,
    )

    # Chen: starts in the app, follows up by email with a new matter.
    chen = await api(
        "cust-1002",
        "chen@example.org",
        "Chen Wei",
        "The app logs me out every few minutes on Android.",
        "demo-api-2",
    )
    await reply(
        chen, "Thanks Chen, which app version are you on? (Settings → About)", channel=Channel.API
    )
    await mail(
        "chen@example.org",
        "Chen Wei",
        "Refund for duplicate charge",
        "I was charged twice for order #5120 on the 3rd. Please refund one of them.",
    )

    # Dana: an urgent email, unassigned.
    dana, _ = await mail(
        "dana@fabrikam.test",
        "Dana Kim",
        "URGENT: wrong item shipped",
        "We received 40 units of SKU-220 instead of SKU-202 and our event is "
        "on Thursday. Please call me.",
    )
    assert dana is not None

    return await c.bus.execute(
        lambda tx: issue_token(tx, email=DEMO_LOGIN[0], name="demo", actor="demo")
    )
