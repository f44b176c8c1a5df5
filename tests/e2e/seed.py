"""The help desk the browser tests start from, written before the server starts.

Two teams: Billing works the email inbox, Sales the SMS line. Rosa is an agent
restricted to Billing. Ana is a known customer with an email address and a
phone number, so her SMS continues her email conversation.

A live-chat inbox allows one origin: the test site's (tests/e2e/site.py). Dana
is a customer of the shop with an email conversation on file, whom the shop's
signed-in pages identify to the widget with a signed identity token.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from email.message import EmailMessage

from argon2 import PasswordHasher

from threadline.actions.customers import create_customer
from threadline.actions.inboxes import add_inbox
from threadline.actions.receipts import Payload
from threadline.actions.teams import (
    create_team,
    set_inbox_scope,
    set_team_inboxes,
    set_team_members,
)
from threadline.actions.users import add_user
from threadline.bootstrap import Container
from threadline.core.identity import normalize
from threadline.storage.db import Tx
from threadline.storage.tables import merge_suggestions

PASSWORD = "correct horse battery staple"
SUPPORT = "support@acme.test"
SMS_NUMBER = "+14155550100"
ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
CHAT_KEY = "acme-web"
CHAT_SECRET = "e2e-identity-secret-0123456789abcdef"  # 32+ printable characters
DANA_EMAIL = "dana@example.com"
DANA_USER_ID = "shop-user-4417"
DANA_SUBJECT = "Where is order 4417?"


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    name: str


@dataclass(frozen=True)
class Desk:
    admin: Person
    ben: Person
    cleo: Person
    rosa: Person  # restricted to Billing (the email inbox)
    email_inbox: int
    sms_inbox: int
    billing: int
    sales: int
    ana: int  # customer: ana@example.com, +14155550101
    bo: int  # customer: bo@example.com (verified)
    bo_claimant: int  # a second record that claimed bo's address: a merge suggestion
    chat_inbox: int  # key CHAT_KEY, allows the test site's origin only
    dana: int  # customer: DANA_EMAIL, with an email conversation (DANA_SUBJECT)


async def seed(c: Container, site_origin: str) -> Desk:
    hashed = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    secret = c.bus.cfg.secret_key

    def build(tx: Tx) -> Desk:
        def person(email: str, name: str, role: str) -> Person:
            uid = add_user(
                tx, email=email, name=name, role=role, password_hash=hashed, actor="seed"
            )
            return Person(uid, email, name)

        admin = person("ava@acme.test", "Ava Admin", "admin")
        ben = person("ben@acme.test", "Ben Ortiz", "agent")
        cleo = person("cleo@acme.test", "Cleo Park", "agent")
        rosa = person("rosa@acme.test", "Rosa Diaz", "agent")
        email_inbox = add_inbox(
            tx,
            channel="email",
            name="Acme Support",
            address=SUPPORT,
            config={"webhook_secret": "hook-secret"},
            secret=secret,
        )
        sms_inbox = add_inbox(
            tx,
            channel="sms",
            name="Acme SMS",
            address=SMS_NUMBER,
            config={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "sandbox": True},
            secret=secret,
        )
        billing = create_team(tx, name="Billing", actor="seed")
        set_team_members(tx, billing, [admin.id, rosa.id, cleo.id], actor="seed")
        set_team_inboxes(tx, billing, [email_inbox], actor="seed")
        sales = create_team(tx, name="Sales", actor="seed")
        set_team_members(tx, sales, [ben.id], actor="seed")
        set_team_inboxes(tx, sales, [sms_inbox], actor="seed")
        set_inbox_scope(tx, rosa.id, all_inboxes=False, actor="seed")
        ana = create_customer(
            tx,
            name="Ana Souza",
            refs=[normalize("email", "ana@example.com"), normalize("phone", "+14155550101")],
        )
        # What an unverified message claiming Bo's address leaves behind: a second
        # record, with a conversation, and an open suggestion to merge the two.
        bo = create_customer(tx, name="Bo Chen", refs=[normalize("email", "bo@example.com")])
        claimant = create_customer(
            tx, name="Bo C.", refs=[normalize("phone", "+14155550177", verified=False)]
        )
        tx.conn.execute(
            merge_suggestions.insert(),
            {
                "customer_id": claimant,
                "other_customer_id": bo,
                "identity": "email:bo@example.com",
                "reason": "unverified email matches another customer",
                "status": "open",
                "created_at": tx.now,
            },
        )
        dana = create_customer(tx, name="Dana Reyes", refs=[normalize("email", DANA_EMAIL)])
        chat_inbox = add_inbox(
            tx,
            channel="chat",
            name="Acme on the web",
            address=CHAT_KEY,
            config={"allowed_origins": [site_origin], "identity_secret": CHAT_SECRET},
            secret=secret,
        )
        return Desk(
            admin,
            ben,
            cleo,
            rosa,
            email_inbox,
            sms_inbox,
            billing,
            sales,
            ana,
            bo,
            claimant,
            chat_inbox,
            dana,
        )

    desk = await c.bus.execute(build)
    # Dana's history comes in by email, as it would: the same path as any message.
    outcome = await c.bus.ingest(
        Payload(
            desk.email_inbox, "email", _email(DANA_EMAIL, "Dana Reyes"), {"rcpt_tos": [SUPPORT]}
        )
    )
    assert outcome.status == "processed", outcome
    assert outcome.customer_id == desk.dana, outcome
    return desk


def _email(sender: str, name: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"{name} <{sender}>"
    msg["To"] = SUPPORT
    msg["Subject"] = DANA_SUBJECT
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@example.com>"
    msg.set_content("Hello, my order 4417 has not arrived yet. Can you check?")
    return msg.as_bytes()
