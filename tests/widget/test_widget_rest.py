"""The widget's REST fallback, its CORS, its files, its config and its script."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from tests.support.factories import make_email_inbox
from tests.support.widget import ORIGIN, visitor_socket
from tests.widget.conftest import Widget

from threadline.bootstrap import Container
from threadline.storage.tables import attachments, inbound_receipts
from threadline.web.widget import assets

pytestmark = pytest.mark.anyio

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
async def http(widget: Widget) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=widget.url, headers={"Origin": ORIGIN}) as client:
        yield client


async def session(http: httpx.AsyncClient, widget: Widget) -> dict[str, str]:
    r = await http.post("/widget/session", json={"inbox": widget.key})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def test_rest_fallback_session_send_and_events(
    widget: Widget, http: httpx.AsyncClient
) -> None:
    r = await http.post("/widget/session", json={"inbox": widget.key})
    welcome = r.json()
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert welcome["seq"] == 0
    assert welcome["config"]["color"] == "#112233"
    auth = {"Authorization": f"Bearer {welcome['token']}"}
    sent = await http.post(
        "/widget/messages", json={"cid": "rest-message-00001", "text": "over REST"}, headers=auth
    )
    again = await http.post(
        "/widget/messages", json={"cid": "rest-message-00001", "text": "over REST"}, headers=auth
    )
    assert sent.json() == again.json() == {"cid": "rest-message-00001", "seq": 1}
    events = await http.get("/widget/events", params={"since": 0}, headers=auth)
    body = events.json()
    assert body["seq"] == 1
    assert [(e["seq"], e["from"], e["text"]) for e in body["events"]] == [
        (1, "visitor", "over REST")
    ]
    assert (await http.get("/widget/events?since=1", headers=auth)).json()["events"] == []
    read = await http.post("/widget/read", json={"seq": 1}, headers=auth)
    assert read.status_code == 204
    # The same visitor on the socket, with the REST session's token.
    async with visitor_socket(widget.url, widget.key, token=welcome["token"]) as s:
        assert s.welcome["seq"] == 1


async def test_rest_calls_from_a_page_not_allowed_are_refused_without_cors(
    widget: Widget, http: httpx.AsyncClient
) -> None:
    auth = await session(http, widget)
    evil = {"Origin": "https://evil.example"}
    refused = [
        await http.post("/widget/session", json={"inbox": widget.key}, headers=evil),
        await http.post(
            "/widget/messages",
            json={"cid": "evil-message-00001", "text": "x"},
            headers={**auth, **evil},
        ),
        await http.get("/widget/events", headers={**auth, **evil}),
        await http.get(f"/widget/config?inbox={widget.key}", headers=evil),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403, 403]
    assert all("access-control-allow-origin" not in r.headers for r in refused)
    preflight = await http.options(
        "/widget/messages",
        headers={**evil, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 403
    assert "access-control-allow-origin" not in preflight.headers


async def test_a_preflight_from_an_allowed_page_is_answered(
    widget: Widget, http: httpx.AsyncClient
) -> None:
    r = await http.options(
        "/widget/events",
        headers={
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert "Authorization" in r.headers["access-control-allow-headers"]


async def test_rest_refusals_are_readable_by_the_widget(
    widget: Widget, http: httpx.AsyncClient, container: Container
) -> None:
    no_session = await http.get("/widget/events")
    auth = await session(http, widget)
    garbage = await http.post("/widget/messages", content=b"{nope", headers=auth)
    huge = await http.post(
        "/widget/messages",
        json={"cid": "huge-message-00001", "text": "x" * 20_000},
        headers=auth,
    )
    bad_since = await http.get("/widget/events?since=-1", headers=auth)
    assert (no_session.status_code, no_session.json()["code"]) == (401, "forbidden")
    assert (garbage.status_code, garbage.json()["code"]) == (400, "bad_frame")
    assert (huge.status_code, huge.json()["code"]) == (413, "too_large")
    assert bad_since.status_code == 400
    for r in (no_session, garbage, huge, bad_since):
        assert r.headers["access-control-allow-origin"] == ORIGIN


async def test_rest_rate_limit_answers_429_with_retry_after(
    widget: Widget, http: httpx.AsyncClient
) -> None:
    auth = await session(http, widget)
    for n in range(10):
        r = await http.post(
            "/widget/messages", json={"cid": f"flood-message-{n:04d}", "text": "x"}, headers=auth
        )
        assert r.status_code == 200
    refused = await http.post(
        "/widget/messages", json={"cid": "flood-message-0010", "text": "x"}, headers=auth
    )
    assert refused.status_code == 429
    assert refused.json() == {
        "code": "rate_limited",
        "message": "too many requests; slow down",
        "cid": "flood-message-0010",
    }
    assert int(refused.headers["retry-after"]) >= 1


async def test_the_transcript_over_rest_is_accepted_once_then_limited(
    container: Container, widget: Widget, http: httpx.AsyncClient
) -> None:
    await make_email_inbox(container)
    auth = await session(http, widget)
    early = await http.post("/widget/transcript", json={"email": "a@b.example"}, headers=auth)
    assert (early.status_code, early.json()["code"]) == (422, "invalid")  # nothing to send yet
    sent = await http.post(
        "/widget/messages", json={"cid": "rest-transcript-001", "text": "hi"}, headers=auth
    )
    assert sent.status_code == 200
    first = await http.post("/widget/transcript", json={"email": "a@b.example"}, headers=auth)
    again = await http.post("/widget/transcript", json={}, headers=auth)
    assert first.status_code == 204
    assert (again.status_code, again.json()["code"]) == (429, "rate_limited")
    assert 1 <= int(again.headers["retry-after"]) <= 600


async def test_an_uploaded_image_goes_out_with_the_message_and_only_by_its_link(
    container: Container, widget: Widget, http: httpx.AsyncClient
) -> None:
    auth = await session(http, widget)
    up = await http.post(
        "/widget/attachments",
        files={"file": ("../../shot.png", PNG, "text/html")},  # the bytes decide the type
        headers=auth,
    )
    assert up.status_code == 201, up.text
    upload = up.json()
    assert upload["name"] == "shot.png"
    assert upload["type"] == "image/png"
    assert upload["size"] == len(PNG)
    r = await http.post(
        "/widget/messages",
        json={"cid": "with-a-file-000001", "text": "see this", "attachments": [upload["id"]]},
        headers=auth,
    )
    assert r.status_code == 200, r.text
    [event] = (await http.get("/widget/events", headers=auth)).json()["events"]
    [file] = event["attachments"]
    assert (file["name"], file["type"], file["size"]) == ("shot.png", "image/png", len(PNG))
    async with httpx.AsyncClient() as anyone:  # no origin, no session: the link is enough
        got = await anyone.get(file["url"])
        forged = await anyone.get(file["url"][:-4] + "0000")
    assert got.status_code == 200
    assert got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert forged.status_code == 404
    stored = await container.db.read(
        lambda c: c.execute(
            sa.select(attachments.c.content_type, attachments.c.sha256, attachments.c.data)
        ).all()
    )
    digest = hashlib.sha256(PNG).hexdigest()
    assert [tuple(r) for r in stored] == [("image/png", digest, None)]
    receipt = await container.db.read(
        lambda c: c.execute(
            sa.select(
                inbound_receipts.c.status,
                inbound_receipts.c.message_id,
                inbound_receipts.c.payload,
                inbound_receipts.c.payload_file,
            ).where(inbound_receipts.c.source == "chat_upload")
        ).one()
    )
    assert receipt.status == "processed"
    assert str(receipt.message_id) == event["id"]
    # The file went to the store before the write: the receipt names it, holds no bytes.
    assert (bytes(receipt.payload), receipt.payload_file) == (b"", digest)
    # Sent once: a second message cannot take the same upload.
    twice = await http.post(
        "/widget/messages",
        json={"cid": "with-a-file-000002", "text": "again", "attachments": [upload["id"]]},
        headers=auth,
    )
    assert twice.status_code == 422


async def test_files_that_are_not_images_pdf_or_text_are_refused(
    widget: Widget, http: httpx.AsyncClient
) -> None:
    auth = await session(http, widget)
    fake = await http.post(
        "/widget/attachments",
        files={"file": ("cat.png", b"MZ\x90\x00 not a png at all", "image/png")},
        headers=auth,
    )
    empty = await http.post(
        "/widget/attachments", files={"file": ("x.txt", b"", "text/plain")}, headers=auth
    )
    missing = await http.post(
        "/widget/attachments", files={"other": ("x.txt", b"hi")}, headers=auth
    )
    assert (fake.status_code, fake.json()["code"]) == (422, "invalid")
    assert (empty.status_code, empty.json()["code"]) == (422, "invalid")
    assert (missing.status_code, missing.json()["code"]) == (400, "bad_frame")


async def test_another_visitors_upload_cannot_be_sent(
    widget: Widget, http: httpx.AsyncClient
) -> None:
    alice, mallory = await session(http, widget), await session(http, widget)
    up = await http.post(
        "/widget/attachments",
        files={"file": ("a.txt", b"alice's notes", "text/plain")},
        headers=alice,
    )
    r = await http.post(
        "/widget/messages",
        json={"cid": "stolen-file-000001", "text": "mine now", "attachments": [up.json()["id"]]},
        headers=mallory,
    )
    assert (r.status_code, r.json()["code"]) == (422, "invalid")


async def test_the_config_is_public_branding_without_secrets(
    widget: Widget, http: httpx.AsyncClient
) -> None:
    r = await http.get(f"/widget/config?inbox={widget.key}")
    assert r.status_code == 200
    assert r.json() == {
        "inbox": "chat_acme",
        "name": "Acme chat",
        "color": "#112233",
        "greeting": "Hi! How can we help?",
        "avatar_url": "",
        "position": "right",
        "prechat": "optional",
    }
    assert r.headers["cache-control"] == "public, max-age=60"
    assert r.headers["access-control-allow-origin"] == ORIGIN
    unknown = await http.get("/widget/config?inbox=chat_nope")
    assert unknown.status_code == 404


async def test_the_widget_script_is_served_with_an_etag(
    widget: Widget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "widget.js"
    monkeypatch.setattr(assets, "WIDGET_JS", script)
    async with httpx.AsyncClient(base_url=widget.url) as client:
        missing = await client.get("/widget.js")
        script.write_text("(function(){})();\n")
        served = await client.get("/widget.js")
        again = await client.get("/widget.js", headers={"If-None-Match": served.headers["etag"]})
    assert missing.status_code == 404
    assert served.status_code == 200
    assert served.text == "(function(){})();\n"
    assert served.headers["content-type"].startswith("text/javascript")
    assert "max-age=86400" in served.headers["cache-control"]
    assert again.status_code == 304
