"""Message search, the same answers on SQLite (FTS5) and PostgreSQL (tsvector)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.factories import (
    deliver_api,
    deliver_email,
    make_api_inbox,
    make_email,
    make_email_inbox,
)

from threadline.bootstrap import Container
from threadline.queries.scope import EVERYTHING
from threadline.queries.search import messages as message_search
from threadline.queries.search import search_messages

pytestmark = pytest.mark.anyio


class Desk:
    """An API inbox whose customers are named by their external ids."""

    def __init__(self, c: Container, inbox_id: int) -> None:
        self.c = c
        self.inbox_id = inbox_id
        self.customers: dict[str, int] = {}
        self.sent = 0

    async def say(self, customer: str, text: str) -> int:
        self.sent += 1
        body = {"id": f"m{self.sent}", "customer": {"external_id": customer}, "text": text}
        out = await deliver_api(self.c, self.inbox_id, body)
        assert out.status == "processed", out
        assert out.message_id is not None
        assert out.customer_id is not None
        self.customers[customer] = out.customer_id
        return out.message_id

    async def search(self, text: str, **kw: Any) -> list[dict[str, Any]]:
        return await self.c.db.read(
            lambda conn: search_messages(conn, text, scope=EVERYTHING, **kw)
        )

    async def search_ids(self, text: str, **kw: Any) -> list[int]:
        return [h["message_id"] for h in await self.search(text, **kw)]


@pytest.fixture
async def desk(container: Container) -> Desk:
    return Desk(container, await make_api_inbox(container))


async def test_newest_first_and_paging_with_before_covers_every_match(desk: Desk) -> None:
    ids = [await desk.say(f"u{i % 3}", f"The kettle leaks, take {i}") for i in range(7)]
    await desk.say("u9", "The toaster is fine")

    assert await desk.search_ids("kettle") == ids[::-1]

    pages: list[list[int]] = []
    before = None
    while page := await desk.search_ids("kettle", limit=3, before=before):
        pages.append(page)
        before = page[-1]
    assert pages == [ids[6:3:-1], ids[3:0:-1], ids[0:1]]


async def test_pages_that_cross_from_recent_to_older_messages(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL reads the newest ids in order and older matches from the GIN index;
    # a walk of 4 messages makes pages straddle the two. SQLite has no walk.
    monkeypatch.setattr(message_search, "_RECENT", 4)
    said = [
        (await desk.say(f"u{i % 2}", "toaster" if i % 3 == 0 else f"kettle {i}"), i % 3 != 0)
        for i in range(13)
    ]
    kettles = [mid for mid, kettle in reversed(said) if kettle]
    u1 = desk.customers["u1"]

    assert await desk.search_ids("kettle") == kettles
    assert await desk.search_ids("kettle", limit=5) == kettles[:5]
    assert await desk.search_ids("kettle", limit=3, before=kettles[1]) == kettles[2:5]
    assert await desk.search_ids("kettle", customer_id=u1) == [
        mid for mid, kettle in reversed(said[1::2]) if kettle
    ]
    assert await desk.search_ids("kettle toaster") == []


async def test_result_rows_keep_their_keys(desk: Desk) -> None:
    mid = await desk.say("ana", "My kettle arrived dented")
    [hit] = await desk.search("kettle")
    assert set(hit) == {
        "message_id",
        "conversation_id",
        "customer_id",
        "channel",
        "direction",
        "snippet",
        "created_at",
        "subject",
        "status",
    }
    assert (hit["message_id"], hit["channel"], hit["direction"]) == (mid, "api", "inbound")
    assert hit["snippet"] == "My kettle arrived dented"


async def test_customer_scope_when_the_customer_wrote_most_of_the_matches(desk: Desk) -> None:
    mine = [await desk.say("ana", f"kettle question {i}") for i in range(6)]
    await desk.say("ben", "my kettle too")
    await desk.say("ana", "nothing to see")
    ana = desk.customers["ana"]

    assert await desk.search_ids("kettle", customer_id=ana) == mine[::-1]
    assert await desk.search_ids("kettle", customer_id=ana, limit=2, before=mine[3]) == [
        mine[2],
        mine[1],
    ]


async def test_customer_scope_when_others_wrote_most_of_the_matches(desk: Desk) -> None:
    # The word matches over 20 times as many messages as the customer wrote, so
    # SQLite walks the customer's messages instead of the matches; same answers.
    first = await desk.say("ana", "the kettle whistles")
    for i in range(70):
        await desk.say(f"other{i}", f"kettle number {i}")
    second = await desk.say("ana", "the kettle whistles again")
    await desk.say("ana", "thanks")
    ana = desk.customers["ana"]

    assert await desk.search_ids("kettle", customer_id=ana) == [second, first]
    assert await desk.search_ids("kettle", customer_id=ana, before=second) == [first]
    assert await desk.search_ids("kettle whistles", customer_id=ana) == [second, first]
    assert await desk.search_ids("kettle number", customer_id=ana) == []
    assert await desk.search_ids("toaster", customer_id=ana) == []


async def test_channel_filter(container: Container, desk: Desk) -> None:
    api_id = await desk.say("ana", "The blender is loud")
    inbox = await make_email_inbox(container)
    raw, _ = make_email(body="The blender is broken")
    email = await deliver_email(container, inbox, raw)
    assert email.status == "processed"

    assert await desk.search_ids("blender") == [email.message_id, api_id]
    assert await desk.search_ids("blender", channel="email") == [email.message_id]
    assert await desk.search_ids("blender", channel="api") == [api_id]
    assert await desk.search_ids("blender", channel="sms") == []


async def test_every_word_must_appear_in_any_order(desk: Desk) -> None:
    both = await desk.say("ana", "Refund for the blue kettle please")
    await desk.say("ben", "The blue toaster")
    await desk.say("cy", "A kettle refund")

    assert await desk.search_ids("blue kettle") == [both]
    assert await desk.search_ids("KETTLE   Blue") == [both]
    assert await desk.search_ids("blue kettle toaster") == []


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ('"order" OR (', "E"),
        ("order OR refund", "E"),
        ("NEAR(order refund)", "E"),
        ("order AND NOT", "E"),
        ("text:order", "E"),
        ("-refund order", "BE"),
        ("order; \\ refund", "BE"),
        ("{order} [refund]", "BE"),
        ("order & | ! refund", "BE"),
        ("order*", "CBE"),
        ("^order", "CBE"),
    ],
)
async def test_search_syntax_typed_by_users_is_just_words(
    desk: Desk, query: str, found: str
) -> None:
    # Neither engine's query language applies: operators are words (none is a stop
    # word), punctuation separates words, and every word must appear. `found` is
    # newest first.
    ids = {
        "E": await desk.say("ana", "Order or refund, near and not: text order refund"),
        "B": await desk.say("ben", "order refund"),
        "C": await desk.say("cy", "just an order"),
    }
    assert await desk.search_ids(query) == [ids[k] for k in found]


@pytest.mark.parametrize("query", ["*", '"', "()", "-", "   ", "!!!", ""])
async def test_queries_without_words_find_nothing(desk: Desk, query: str) -> None:
    await desk.say("ana", "order refund")
    assert await desk.search_ids(query) == []


async def test_accents_fold_both_ways(desk: Desk) -> None:
    # FTS5's remove_diacritics 2 and PostgreSQL's unaccent agree on letters with
    # diacritics (é, ü, ã, ï). unaccent also folds ß→ss, æ→ae, ø→o and ligatures,
    # which FTS5 keeps as they are, so those are not asserted.
    cafe = await desk.say("ana", "Meet at the Café in Zürich")
    plain = await desk.say("ben", "the cafe in zurich is closed")
    naive = await desk.say("cy", "a naïve résumé from São Paulo")

    assert await desk.search_ids("café") == [plain, cafe]
    assert await desk.search_ids("CAFE zurich") == [plain, cafe]
    assert await desk.search_ids("Zürich") == [plain, cafe]
    assert await desk.search_ids("naive resume sao") == [naive]
    assert await desk.search_ids("RÉSUMÉ") == [naive]
