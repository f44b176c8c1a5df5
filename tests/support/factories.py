"""Factories: build state the way users create it, through actions and the bus."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import httpx
from argon2 import PasswordHasher
from litestar.testing import AsyncTestClient

from threadline.actions.inboxes import add_inbox
from threadline.actions.receipts import Payload, ReceiptOutcome
from threadline.actions.teams import (
    create_team,
    set_inbox_scope,
    set_team_inboxes,
    set_team_members,
)
from threadline.actions.users import add_user, issue_token
from threadline.bootstrap import Container
from threadline.queries.scope import EVERYTHING
from threadline.queries.timeline import customer_timeline
from threadline.storage.db import Tx
from threadline.web.app import create_app

SUPPORT = "support@acme.test"


async def make_inbox(
    c: Container, channel: str, name: str, address: str, config: dict[str, Any]
) -> int:
    """Add an inbox as an admin does; the bus serves it at once (reload_inboxes)."""
    inbox_id = await c.bus.execute(
        lambda tx: add_inbox(
            tx,
            channel=channel,
            name=name,
            address=address,
            config=config,
            secret=c.bus.cfg.secret_key,
        )
    )
    await c.bus.reload_inboxes()
    return inbox_id


async def make_email_inbox(c: Container, address: str = SUPPORT, **config: Any) -> int:
    config.setdefault("webhook_secret", "hook-secret")
    return await make_inbox(c, "email", "Acme Support", address, config)


async def make_api_inbox(c: Container, **config: Any) -> int:
    return await make_inbox(c, "api", "Acme app", "acme-app", config)


async def make_agent(
    c: Container, email: str = "sam@acme.test", role: str = "admin", password: str | None = None
) -> tuple[int, str]:
    """A user with an API token; with a password, they can also sign in to the UI."""
    hashed = PasswordHasher().hash(password) if password else None
    user_id = await c.bus.execute(
        lambda tx: add_user(
            tx, email=email, name="Sam Rivera", role=role, password_hash=hashed, actor="test"
        )
    )
    token = await c.bus.execute(lambda tx: issue_token(tx, email=email, name="test", actor="test"))
    return user_id, token


async def make_team(
    c: Container,
    name: str,
    *,
    members: Iterable[int] = (),
    inboxes: Iterable[int] = (),
    restrict: Iterable[int] = (),
) -> int:
    """A team working ``inboxes``; the ``restrict`` users then see only their teams' inboxes."""

    def build(tx: Tx) -> int:
        team_id = create_team(tx, name=name, actor="test")
        set_team_members(tx, team_id, members, actor="test")
        set_team_inboxes(tx, team_id, inboxes, actor="test")
        for user_id in restrict:
            set_inbox_scope(tx, user_id, all_inboxes=False, actor="test")
        return team_id

    return await c.bus.execute(build)


async def form_token(client: httpx.AsyncClient, page: str = "/login") -> str:
    """The CSRF token a page's form carries, as a browser would submit it."""
    r = await client.get(page)
    assert r.status_code == 200, r.text
    found = re.search(r'name="_csrf_token" value="([^"]+)"', r.text)
    assert found, f"{page} has a form with a CSRF token"
    return found.group(1)


async def ui_login(client: httpx.AsyncClient, email: str, password: str) -> None:
    """Sign in through the real form, as a browser does (the client keeps the cookies)."""
    token = await form_token(client, "/login")
    r = await client.post(
        "/login",
        data={"email": email, "password": password, "_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code in (302, 303), f"login failed: {r.status_code} {r.text[:200]}"


def make_email(
    sender: str = "ana@example.com",
    name: str = "Ana Souza",
    subject: str = "Order #4417 hasn't arrived",
    body: str = "My order is late.",
    *,
    to: str = SUPPORT,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[bytes, str]:
    msg = EmailMessage()
    msg["From"] = f"{name} <{sender}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 11, 2, 8, 0, tzinfo=UTC))
    mid = message_id or make_msgid(domain=sender.split("@")[1])
    msg["Message-ID"] = mid
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references or in_reply_to:
        msg["References"] = " ".join(references or [in_reply_to or ""])
    for k, v in (headers or {}).items():
        msg[k] = v
    msg.set_content(body)
    return msg.as_bytes(), mid.strip("<>")


async def deliver_email(c: Container, inbox_id: int, raw: bytes, **context: Any) -> ReceiptOutcome:
    context.setdefault("rcpt_tos", [SUPPORT])
    return await c.bus.ingest(Payload(inbox_id, "email", raw, context))


async def deliver_api(c: Container, inbox_id: int, body: dict[str, Any]) -> ReceiptOutcome:
    return await c.bus.ingest(Payload(inbox_id, "api", json.dumps(body).encode(), {}))


async def timeline(c: Container, customer_id: int) -> list[dict[str, Any]]:
    """Oldest first, as a person reads it."""
    entries = await c.db.read(
        lambda conn: customer_timeline(conn, customer_id, scope=EVERYTHING, limit=500)
    )
    return list(reversed(entries))


def api_client(c: Container) -> AsyncTestClient:  # type: ignore[type-arg]
    return AsyncTestClient(create_app(c, manage_lifecycle=False))
