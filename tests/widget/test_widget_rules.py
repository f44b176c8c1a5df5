"""What the widget's socket refuses: pages not allowed, bad and oversize frames, floods."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from tests.support.widget import ORIGIN, visitor_socket, ws_url
from tests.widget.conftest import Widget
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.storage.tables import chat_visitors, messages
from threadline.web.widget import socket as widget_socket

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("origin", "inbox"),
    [
        (None, "chat_acme"),  # no Origin header at all
        ("https://evil.example", "chat_acme"),
        ("https://shop.example.evil.example", "chat_acme"),
        ("http://shop.example", "chat_acme"),  # the page's scheme matters too
        (ORIGIN, "chat_nope"),  # no such inbox
    ],
)
async def test_the_handshake_is_refused_with_403_before_the_socket_opens(
    container: Container, widget: Widget, origin: str | None, inbox: str
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            ws_url(widget.url, inbox), origin=Origin(origin) if origin else None, proxy=None
        ):
            pass
    assert refused.value.response.status_code == 403
    count = await container.db.read(
        lambda c: c.execute(sa.select(sa.func.count()).select_from(chat_visitors)).scalar()
    )
    assert count == 0


async def test_the_allowed_origin_is_matched_as_browsers_write_it(widget: Widget) -> None:
    async with visitor_socket(widget.url, widget.key, origin="HTTPS://Shop.Example:443") as s:
        assert s.welcome["type"] == "welcome"


async def test_bad_and_oversize_frames_get_error_frames_and_the_socket_stays_open(
    widget: Widget,
) -> None:
    async with visitor_socket(widget.url, widget.key) as s:
        await s.ws.send("not json")
        bad = await s.next("error")
        await s.send(type="send", cid="x" * 20, text="y" * 17_000)  # over 16 KiB
        large = await s.next("error")
        await s.send(type="send", cid="short", text="hi")  # cid under 16 characters
        short = await s.next("error")
        await s.send(type="send", cid="c" * 20, text="")
        empty = await s.next("error")
        await s.send(type="warp", speed=9)
        unknown = await s.next("error")
        await s.ws.send(b"\x00\x01binary")
        binary = await s.next("error")
        await s.send(type="send", cid="c" * 20, text="still here")
        ack = await s.next("ack")
    assert bad["code"] == "bad_frame"
    assert large["code"] == "too_large"
    assert short["code"] == empty["code"] == unknown["code"] == binary["code"] == "bad_frame"
    assert ack["seq"] == 1


async def test_twenty_bad_frames_in_a_row_close_the_socket_with_1008(widget: Widget) -> None:
    async with visitor_socket(widget.url, widget.key) as s:
        for _ in range(20):
            await s.ws.send("{")
        with pytest.raises(ConnectionClosed) as closed:
            await s.settle()  # the error frames come, then the close
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008


async def test_a_frame_before_hello_is_refused_and_hello_still_works(widget: Widget) -> None:
    async with connect(ws_url(widget.url, widget.key), origin=Origin(ORIGIN), proxy=None) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        refused = json.loads(await ws.recv())
        await ws.send(json.dumps({"type": "hello", "v": 1, "since": 0}))
        welcome = json.loads(await ws.recv())
    assert refused["type"] == "error"
    assert refused["code"] == "bad_frame"
    assert welcome["type"] == "welcome"


async def test_more_than_ten_messages_in_ten_seconds_are_refused(
    container: Container, widget: Widget, clock: FakeClock
) -> None:
    async with visitor_socket(widget.url, widget.key) as s:
        acks = [await s.message(f"message-{n:010d}", f"spam {n}") for n in range(10)]
        await s.send(type="send", cid="message-0000000010", text="one too many")
        refused = await s.next("error")
        clock.advance(seconds=11)
        later = await s.message("message-0000000011", "after a pause")
    assert [a["seq"] for a in acks] == list(range(1, 11))
    assert refused["code"] == "rate_limited"
    assert refused["cid"] == "message-0000000010"
    assert later["seq"] == 11
    stored = await container.db.read(
        lambda c: c.execute(sa.select(sa.func.count()).select_from(messages)).scalar()
    )
    assert stored == 11


async def test_new_visitors_from_one_address_are_limited_to_thirty_a_minute(
    widget: Widget,
) -> None:
    for _ in range(30):
        async with visitor_socket(widget.url, widget.key) as s:
            assert not s.errors
    async with connect(ws_url(widget.url, widget.key), origin=Origin(ORIGIN), proxy=None) as ws:
        await ws.send(json.dumps({"type": "hello", "v": 1, "since": 0}))
        refused = json.loads(await ws.recv())
    assert refused["type"] == "error"
    assert refused["code"] == "rate_limited"


async def test_a_returning_visitor_is_not_counted_as_new(widget: Widget) -> None:
    async with visitor_socket(widget.url, widget.key) as s:
        token = s.welcome["token"]
    for _ in range(40):
        async with visitor_socket(widget.url, widget.key, token=token) as s:
            assert s.welcome["token"] == token


async def test_html_in_a_message_is_stored_and_sent_as_text(
    container: Container, widget: Widget
) -> None:
    hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script>\x00'
    async with visitor_socket(widget.url, widget.key) as s:
        await s.message("hostile-text-0001", hostile)
        [event] = await s.events(1)
    stored = await container.db.read(
        lambda c: c.execute(sa.select(messages.c.text, messages.c.html)).one()
    )
    assert stored.html is None
    assert stored.text == event["text"] == hostile.replace("\x00", "")


async def test_a_socket_that_never_says_hello_is_closed_with_1008(
    widget: Widget, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(widget_socket, "HELLO_SECONDS", 0.2)  # the real wait is 10 s
    async with connect(ws_url(widget.url, widget.key), origin=Origin(ORIGIN), proxy=None) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008
