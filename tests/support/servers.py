"""Real servers inside a test: a free loopback port, an ASGI app (ours or a fake
provider API) on a real uvicorn on the test's own event loop, the two halves of
such a fake API (the request body in, a JSON or text answer out), and a local
SMTP relay that records what we send."""

from __future__ import annotations

import asyncio
import email
import email.message
import email.policy
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Literal

import uvicorn

__all__ = ["Relay", "free_port", "read_body", "respond", "serving"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def serving(
    app: Any, port: int, *, ws: Literal["none", "websockets-sansio"] = "none"
) -> AsyncIterator[str]:
    """Serve an ASGI app with a real uvicorn on this event loop; yields its base URL.

    ``ws="websockets-sansio"`` serves WebSockets too (the chat widget's), as
    `threadline serve` does."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        ws=ws,
        log_level="warning",
        # A client that keeps its connection open must not hang the test's teardown.
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # uvicorn could not start: raise why
            raise RuntimeError("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def read_body(receive: Callable[[], Awaitable[dict[str, Any]]]) -> bytes:
    """The whole body of an ASGI HTTP request, however many messages it came in."""
    body = b""
    while True:
        event = await receive()
        body += event.get("body", b"")
        if not event.get("more_body"):
            return body


async def respond(
    send: Callable[[dict[str, Any]], Awaitable[None]],
    status: int,
    answer: Any,
    *,
    text_type: bytes = b"text/plain",
) -> None:
    """Answer an ASGI HTTP request: a str as is (providers' edges answer some errors
    with text or HTML, as ``text_type``), anything else as JSON."""
    if isinstance(answer, str):
        raw, kind = answer.encode(), text_type
    else:
        raw, kind = json.dumps(answer).encode(), b"application/json"
    await send(
        {"type": "http.response.start", "status": status, "headers": [(b"content-type", kind)]}
    )
    await send({"type": "http.response.body", "body": raw})


class Relay:
    """A local SMTP relay that records what we send and can be told to refuse."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self.refuse: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return self.refuse
        self.received.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        return "250 OK"

    def parsed(self, i: int = -1) -> email.message.EmailMessage:
        return email.message_from_bytes(self.received[i][2], policy=email.policy.default)  # type: ignore[return-value]
