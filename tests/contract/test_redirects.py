"""Account questions on social DMs (issue 9): a WhatsApp DM that asks about the
account gets one redirect reply with a signed link; the link's page continues
the conversation by a confirmed email or a verified chat, and the proof links
the WhatsApp identity to the customer on file (a merge, on the timeline)."""

from __future__ import annotations

import re
from itertools import count
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from tests.channels.meta.support import WA_ID, fixture, make_meta_inbox, post_meta
from tests.support.factories import (
    deliver_email,
    form_token,
    make_email,
    make_email_inbox,
    make_inbox,
    timeline,
)
from tests.support.servers import Relay
from tests.support.ui import make_user, sign_in
from tests.support.widget import ORIGIN, SECRET, relay_senders, signed

from threadline.actions.redirects import REDIRECT_JOB
from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.storage.tables import conversations, identities, jobs, messages, redirects
from threadline.web.ui.render import describe

pytestmark = pytest.mark.anyio

ASK = "I can't log into my account, can you reset my password?"
LINK = re.compile(r"(http://[^\s]+/continue/[0-9]+\.[0-9]+\.[0-9a-f]{32})")
_ids = count(1)


@pytest.fixture
def senders(relay: tuple[Relay, int]) -> dict[str, Any]:
    return relay_senders(relay)


async def dm(c: Container, served: str, text: str) -> int:
    """Sheena writes on WhatsApp (a signed Meta webhook); returns the conversation."""
    data = fixture("whatsapp_text")
    message = data["entry"][0]["changes"][0]["value"]["messages"][0]
    message["text"]["body"] = text
    message["id"] = f"wamid.redirect-{next(_ids)}"
    async with httpx.AsyncClient(base_url=served) as client:
        answer = await post_meta(client, data)
    assert answer.status_code == 200, answer.text
    query = sa.select(messages.c.conversation_id).where(
        messages.c.provider_message_id == message["id"]
    )
    cid: int = await c.db.read(lambda conn: conn.execute(query).scalar_one())
    return cid


async def outbound(c: Container, cid: int) -> list[Any]:
    q = (
        sa.select(messages.c.id, messages.c.channel, messages.c.text, messages.c.recipient)
        .where(messages.c.conversation_id == cid, messages.c.direction == "outbound")
        .order_by(messages.c.id)
    )
    return list(await c.db.read(lambda conn: conn.execute(q).all()))


async def customer_of(c: Container, cid: int) -> int:
    q = sa.select(conversations.c.customer_id).where(conversations.c.id == cid)
    found: int = await c.db.read(lambda conn: conn.execute(q).scalar_one())
    return found


async def owner(c: Container, kind: str, value: str) -> int | None:
    q = sa.select(identities.c.customer_id).where(
        identities.c.kind == kind, identities.c.value == value
    )
    found = await c.db.read(lambda conn: conn.execute(q).scalar())
    return None if found is None else int(found)


async def link_in(c: Container, cid: int) -> str:
    [reply] = await outbound(c, cid)
    found = LINK.search(reply.text)
    assert found, reply.text
    return found.group(1)


async def test_an_account_question_on_whatsapp_gets_one_redirect_with_a_working_link(
    container: Container, served: str
) -> None:
    c = container
    await make_email_inbox(c)
    await make_meta_inbox(c, "whatsapp")
    cid = await dm(c, served, ASK)
    await c.runner.run_due()
    [reply] = await outbound(c, cid)
    assert reply.channel == "whatsapp"
    assert reply.recipient == WA_ID
    assert reply.text.startswith("Hi Sheena, we can't look into account details here")
    link = await link_in(c, cid)
    assert link.startswith(f"{served}/continue/")
    entries = await timeline(c, await customer_of(c, cid))
    [entry] = [e for e in entries if e["kind"] == "redirected"]
    assert entry["data"]["reason"] == (
        "account question on WhatsApp: redirected to a verified channel"
    )
    assert describe(entry, {}) == (
        "Auto-reply: account question on WhatsApp: redirected to a verified channel"
    )
    async with httpx.AsyncClient() as client:
        page = await client.get(link)
    assert page.status_code == 200
    assert "Continue with" in page.text
    assert 'name="email"' in page.text
    # A second account question in the same conversation the same day: no second link.
    assert await dm(c, served, "and my password reset code never came") == cid
    await c.runner.run_due()
    assert len(await outbound(c, cid)) == 1


async def test_a_question_that_is_not_about_the_account_gets_no_redirect(
    container: Container, served: str
) -> None:
    c = container
    await make_meta_inbox(c, "whatsapp")
    cid = await dm(c, served, "Does it come in another color?")
    await c.runner.run_due()
    assert await outbound(c, cid) == []
    q = sa.select(sa.func.count()).select_from(jobs).where(jobs.c.kind == REDIRECT_JOB)
    assert await c.db.read(lambda conn: conn.execute(q).scalar()) == 0


async def test_the_redirect_job_run_again_sends_nothing_twice(
    container: Container, served: str
) -> None:
    c = container
    await make_meta_inbox(c, "whatsapp")
    cid = await dm(c, served, ASK)
    await c.runner.run_due()
    # As if a worker died after the commit and the job were claimed again.
    await c.db.write(
        lambda tx: tx.conn.execute(
            jobs.update().where(jobs.c.kind == REDIRECT_JOB).values(status="queued")
        )
    )
    await c.runner.run_due()
    assert len(await outbound(c, cid)) == 1
    q = sa.select(sa.func.count()).select_from(redirects)
    assert await c.db.read(lambda conn: conn.execute(q).scalar()) == 1


async def test_the_inbox_can_turn_the_redirect_off(container: Container, served: str) -> None:
    c = container
    await make_meta_inbox(c, "whatsapp", redirect={"enabled": False})
    cid = await dm(c, served, ASK)
    await c.runner.run_due()
    assert await outbound(c, cid) == []


async def test_a_forged_or_expired_link_is_refused(
    container: Container, served: str, clock: FakeClock
) -> None:
    c = container
    await make_meta_inbox(c, "whatsapp")
    cid = await dm(c, served, ASK)
    await c.runner.run_due()
    link = await link_in(c, cid)
    rid, expires, mac = link.rsplit("/", 1)[1].split(".")
    forged = [
        f"{int(rid) + 1}.{expires}.{mac}",  # another redirect's id
        f"{rid}.{int(expires) + 86400}.{mac}",  # a longer life
        f"{rid}.{expires}.{'0' * 32}",
        "1",
        "x" * 300,
    ]
    async with httpx.AsyncClient(base_url=served) as client:
        for token in forged:
            answer = await client.get(f"/continue/{token}")
            assert answer.status_code == 404, token
            assert "Sheena" not in answer.text
            assert WA_ID not in answer.text
        clock.advance(hours=24)
        expired = await client.get(link.removeprefix(served))
    assert expired.status_code == 410
    assert "This link has expired" in expired.text
    assert "Sheena" not in expired.text


def confirm_link(mailbox: Relay) -> str:
    body = mailbox.parsed(-1).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    found = re.search(r"(http://\S+/continue/confirm/\S+)", body)
    assert found, body
    return found.group(1)


async def test_a_confirmed_email_links_the_whatsapp_identity_to_the_customer_on_file(
    container: Container, served: str, relay: tuple[Relay, int]
) -> None:
    c, (mailbox, _) = container, relay
    mail_inbox = await make_email_inbox(c)
    raw, _ = make_email(sender="sheena@example.com", subject="Hello", body="Hi there")
    ana = (await deliver_email(c, mail_inbox, raw)).conversation_id
    assert ana is not None
    on_file = await customer_of(c, ana)
    await make_meta_inbox(c, "whatsapp")
    cid = await dm(c, served, ASK)
    await c.runner.run_due()
    social = await customer_of(c, cid)
    assert social != on_file
    link = await link_in(c, cid)
    async with httpx.AsyncClient(base_url=served) as client:
        path = link.removeprefix(served)
        token = await form_token(client, path)
        bad = await client.post(f"{path}/email", data={"email": "nope", "_csrf_token": token})
        assert bad.status_code == 422
        sent = await client.post(
            f"{path}/email", data={"email": "Sheena@Example.com", "_csrf_token": token}
        )
        assert sent.status_code == 200, sent.text
        assert "sheena@example.com" in sent.text
        await c.runner.run_due()
        assert mailbox.received[-1][1] == ["sheena@example.com"]
        confirm = confirm_link(mailbox).removeprefix(served)
        shown = await client.get(confirm)  # a mail scanner's visit proves nothing
        assert shown.status_code == 200
        assert await owner(c, "whatsapp", WA_ID) == social
        done = await client.post(confirm, data={"_csrf_token": await form_token(client, confirm)})
        assert done.status_code == 200, done.text
        again = await client.post(confirm, data={"_csrf_token": token})
        assert again.status_code == 404  # one use
        spent = await client.get(path)
        assert spent.status_code == 410  # the DM's link has done its work
    # The WhatsApp identity is the customer's on file now, by a reversible merge.
    assert await owner(c, "whatsapp", WA_ID) == on_file
    assert await customer_of(c, cid) == on_file
    entries = await timeline(c, on_file)
    [merge] = [e for e in entries if e["kind"] == "customers_merged"]
    assert merge["data"]["source_id"] == social
    assert merge["data"]["actor"] == "system:redirect"
    [proved] = [e for e in entries if e["kind"] == "redirect_proved"]
    assert proved["conversation_id"] == cid
    assert describe(proved, {}) == (
        f"The customer confirmed their email: whatsapp {WA_ID} is theirs (records merged)"
    )
    # The conversation goes on by email: our mail of it, and the answer to it.
    await c.runner.run_due()
    mail = [m for m in await outbound(c, cid) if m.channel == "email"]
    assert [m.recipient for m in mail] == ["sheena@example.com"]
    sent_id = await c.db.read(
        lambda conn: conn.execute(
            sa.select(messages.c.provider_message_id).where(messages.c.id == mail[0].id)
        ).scalar_one()
    )
    answer, _ = make_email(
        sender="sheena@example.com",
        subject="Re: your conversation",
        body="Here I am, by email",
        in_reply_to=f"<{sent_id}>",
    )
    assert (await deliver_email(c, mail_inbox, answer)).conversation_id == cid


async def test_a_verified_chat_with_the_link_links_the_whatsapp_identity(
    container: Container, served: str
) -> None:
    c = container
    chat_key = "chat_acme"
    await make_inbox(
        c, "chat", "Acme chat", chat_key, {"allowed_origins": [ORIGIN], "identity_secret": SECRET}
    )
    await make_meta_inbox(
        c, "whatsapp", redirect={"chat_url": "https://shop.example/help", "offer_email": False}
    )
    cid = await dm(c, served, ASK)
    await c.runner.run_due()
    social = await customer_of(c, cid)
    link = await link_in(c, cid)
    token = link.rsplit("/", 1)[1]
    headers = {"Origin": ORIGIN}
    async with httpx.AsyncClient(base_url=served, headers=headers) as client:
        page = await client.get(link.removeprefix(served))
        assert f'href="https://shop.example/help#tl-continue={token}"' in page.text
        assert 'name="email"' not in page.text
        # The widget on the shop's page: the token from the fragment, the signed identity.
        session = await client.post(
            "/widget/session",
            json={
                "inbox": chat_key,
                "continue": token,
                "identity": signed("u-7", "sheena@shop.example"),
            },
        )
        assert session.status_code == 200, session.text
        visitor = session.json()["token"]
        sent = await client.post(
            "/widget/messages",
            json={"cid": "continue-000000000001", "text": "It's me, signed in"},
            headers={"Authorization": f"Bearer {visitor}"},
        )
        assert sent.status_code == 200, sent.text
    chat = await c.db.read(
        lambda conn: conn.execute(
            sa.select(messages.c.conversation_id).where(messages.c.channel == "chat")
        ).scalar_one()
    )
    assert chat == cid  # the chat continues the WhatsApp conversation
    verified = await owner(c, "external", "u-7")
    assert verified is not None
    assert await owner(c, "whatsapp", WA_ID) == verified
    assert await customer_of(c, cid) == verified
    entries = await timeline(c, verified)
    [proved] = [e for e in entries if e["kind"] == "redirect_proved"]
    assert proved["data"]["by"] == "chat"
    assert proved["data"]["merged"] is (verified != social)


async def test_an_unverified_chat_with_the_link_links_nothing(
    container: Container, served: str
) -> None:
    c = container
    await make_inbox(
        c,
        "chat",
        "Acme chat",
        "chat_acme",
        {"allowed_origins": [ORIGIN], "identity_secret": SECRET},
    )
    await make_meta_inbox(c, "whatsapp", redirect={"chat_url": "https://shop.example/help"})
    cid = await dm(c, served, ASK)
    await c.runner.run_due()
    social = await customer_of(c, cid)
    token = (await link_in(c, cid)).rsplit("/", 1)[1]
    async with httpx.AsyncClient(base_url=served, headers={"Origin": ORIGIN}) as client:
        session = await client.post(
            "/widget/session", json={"inbox": "chat_acme", "continue": token}
        )
        assert session.status_code == 200
        # a forged identity proves nothing either
        forged = signed("u-7", "sheena@shop.example", secret="not-the-secret-" * 3)
        again = await client.post(
            "/widget/session",
            json={"inbox": "chat_acme", "token": session.json()["token"], "identity": forged},
        )
        assert again.json()["error"]["code"] == "identity"
    assert await owner(c, "whatsapp", WA_ID) == social
    assert await owner(c, "external", "u-7") is None


async def test_an_admin_words_the_redirect_and_the_next_one_says_it(
    container: Container, served: str
) -> None:
    c = container
    inbox = await make_meta_inbox(c, "whatsapp")
    await make_user(c, "ada@acme.test", role="admin")
    page = f"/settings/inboxes/{inbox}/redirect"
    async with httpx.AsyncClient(base_url=served) as client:
        await sign_in(client, "ada@acme.test")
        shown = await client.get(page)
        assert shown.status_code == 200
        assert "{link}" in shown.text
        token = await form_token(client, page)
        form = {"_csrf_token": token, "enabled": "1", "offer_email": "1"}
        refused = await client.post(page, data={**form, "template": "Call us instead"})
        assert refused.status_code == 422
        assert "it must contain {link}" in refused.text
        saved = await client.post(
            page, data={**form, "template": "Hello{name}! Continue here: {link}"}
        )
        assert saved.status_code == 303
    cid = await dm(c, served, ASK)
    await c.runner.run_due()
    [reply] = await outbound(c, cid)
    assert reply.text.startswith("Hello Sheena! Continue here: http")
