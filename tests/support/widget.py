"""A widget visitor in tests: a real WebSocket client speaking docs/widget.md.

Frames are read with a generous bound (a hung server fails the test instead
of hanging it); nothing here measures time. ``settle`` pings and returns every
frame that came before the pong: since the server answers frames in order and
sends everything through one writer, those are all the frames it had for us.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

from threadline.channels.email.adapter import SmtpRelay, SmtpSender
from threadline.core.chat_config import identity_hash

__all__ = ["ORIGIN", "SECRET", "ChatSocket", "relay_senders", "signed", "visitor_socket"]

ORIGIN = "https://shop.example"
SECRET = "widget-identity-secret-0123456789abcdef"
WAIT = 10.0  # a bound against hanging, not a timing expectation
PASSIVE = frozenset({"presence", "typing"})  # frames that may arrive whenever they change


def signed(
    user_id: str, email: str, name: str | None = None, secret: str = SECRET
) -> dict[str, Any]:
    claim: dict[str, Any] = {
        "user_id": user_id,
        "email": email,
        "hash": identity_hash(secret, user_id, email),
    }
    if name:
        claim["name"] = name
    return claim


@dataclass
class ChatSocket:
    ws: ClientConnection
    welcome: dict[str, Any]
    errors: list[dict[str, Any]]  # error frames that came before the welcome
    held: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, **frame: Any) -> None:
        await self.ws.send(json.dumps(frame))

    async def raw(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), WAIT))
        return found

    async def next(self, *types: str) -> dict[str, Any]:
        """The next frame of these types. Frames of other types that come first are
        held for later (an ack and its event may come in either order); presence and
        typing frames are dropped unless asked for."""
        for i, held in enumerate(self.held):
            if held["type"] in types:
                return self.held.pop(i)
        while True:
            found = await self.raw()
            if found["type"] in types:
                return found
            if found["type"] not in PASSIVE:
                self.held.append(found)

    async def events(self, count: int) -> list[dict[str, Any]]:
        return [await self.next("event") for _ in range(count)]

    async def settle(self) -> list[dict[str, Any]]:
        """Every frame the server had for us and we have not read (but presence and
        typing), up to the pong that answers a ping."""
        await self.send(type="ping")
        frames, self.held = self.held, []
        while True:
            found = await self.raw()
            if found["type"] == "pong":
                return frames
            if found["type"] not in PASSIVE:
                frames.append(found)

    async def message(self, cid: str, text: str, **extra: Any) -> dict[str, Any]:
        """Send a message; returns its ack (its event frame is left to read)."""
        await self.send(type="send", cid=cid, text=text, **extra)
        return await self.next("ack")


def ws_url(base: str, inbox: str) -> str:
    return base.replace("http://", "ws://") + f"/widget/ws?inbox={inbox}"


@asynccontextmanager
async def visitor_socket(
    base: str,
    inbox: str,
    *,
    token: str | None = None,
    since: int = 0,
    identity: dict[str, Any] | None = None,
    origin: str | None = ORIGIN,
) -> AsyncIterator[ChatSocket]:
    """Connect, say hello, read the welcome (and an error frame before it, if any)."""
    async with connect(
        ws_url(base, inbox), origin=Origin(origin) if origin else None, proxy=None
    ) as ws:
        hello: dict[str, Any] = {"type": "hello", "v": 1, "since": since}
        if token:
            hello["token"] = token
        if identity:
            hello["identity"] = identity
        await ws.send(json.dumps(hello))
        errors = []
        while True:
            first = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            if first["type"] == "welcome":
                break
            assert first["type"] == "error", first
            errors.append(first)
        yield ChatSocket(ws, first, errors)


def relay_senders(relay: tuple[Any, int]) -> dict[str, Any]:
    """Email out through the test's local SMTP relay (tests/conftest.py ``relay``):
    what a visitor or an agent would find in their mailbox."""
    return {"email": SmtpSender(SmtpRelay(host="127.0.0.1", port=relay[1], starttls=False))}
