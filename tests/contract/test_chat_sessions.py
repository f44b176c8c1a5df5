"""actions/chat.open_session on SQLite and PostgreSQL: what a visitor row says after
a widget connects (when it was last seen, from which page, who it is)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from tests.support.factories import make_inbox

from threadline.actions.chat import VerifiedIdentity, open_session
from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.storage.tables import chat_visitors

pytestmark = pytest.mark.anyio

SHOP = "https://shop.acme.test"


async def _visitors(c: Container) -> list[Any]:
    return await c.db.read(
        lambda conn: conn.execute(sa.select(chat_visitors).order_by(chat_visitors.c.id)).all()
    )


async def test_a_visitor_is_seen_from_the_page_they_last_came_from(
    container: Container, clock: FakeClock
) -> None:
    c = container
    inbox = await make_inbox(c, "chat", "Acme chat", "chat_acme", {})
    start = clock.now()
    new = await c.bus.execute(
        lambda tx: open_session(tx, inbox_id=inbox, token=None, origin=SHOP + "/cart")
    )
    clock.advance(minutes=5)
    again = await c.bus.execute(
        lambda tx: open_session(tx, inbox_id=inbox, token=new.token, origin=SHOP + "/help")
    )
    clock.advance(minutes=5)
    bare = await c.bus.execute(lambda tx: open_session(tx, inbox_id=inbox, token=new.token))

    assert (new.new, again.new, bare.new) == (True, False, False)
    assert {new.visitor_id, again.visitor_id, bare.visitor_id} == {new.visitor_id}
    [row] = await _visitors(c)
    assert (row.key, row.verified, row.last_seq) == (new.key, False, 0)
    assert row.created_at == start
    assert row.last_seen_at == start + timedelta(minutes=10)
    assert row.origin == SHOP + "/help"  # no page named: the last one stays


async def test_a_token_of_another_inbox_or_someone_else_starts_a_new_visitor(
    container: Container, clock: FakeClock
) -> None:
    c = container
    inbox = await make_inbox(c, "chat", "Acme chat", "chat_acme", {})
    other = await make_inbox(c, "chat", "Other chat", "chat_other", {})
    lena = VerifiedIdentity("u-1", "lena@example.com", "Lena Park")
    first = await c.bus.execute(
        lambda tx: open_session(tx, inbox_id=inbox, token=None, identity=lena)
    )
    elsewhere = await c.bus.execute(lambda tx: open_session(tx, inbox_id=other, token=first.token))
    clock.advance(minutes=5)
    same = await c.bus.execute(
        lambda tx: open_session(tx, inbox_id=inbox, token=first.token, identity=lena, origin=SHOP)
    )
    mo = VerifiedIdentity("u-2", "mo@example.com")
    shared = await c.bus.execute(
        lambda tx: open_session(tx, inbox_id=inbox, token=first.token, identity=mo)
    )

    assert (elsewhere.new, same.new, shared.new) == (True, False, True)
    assert same.visitor_id == first.visitor_id
    rows = {r.id: r for r in await _visitors(c)}
    assert len(rows) == 3
    assert (rows[first.visitor_id].external_id, rows[first.visitor_id].name) == ("u-1", "Lena Park")
    assert rows[first.visitor_id].verified is True
    assert rows[first.visitor_id].last_seen_at == clock.now()
    assert rows[first.visitor_id].origin == SHOP
    assert (rows[shared.visitor_id].external_id, rows[shared.visitor_id].email) == (
        "u-2",
        "mo@example.com",
    )
    assert rows[elsewhere.visitor_id].verified is False
