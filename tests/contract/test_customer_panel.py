"""The customer panel: customer_profile, and the actions it offers (attributes,
name, merge suggestions accepted, dismissed and undone), on both databases.

Built on the two-team desk (tests/support/desk.py): Rosa works Billing only.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.desk import Desk, build_desk
from tests.support.factories import deliver_api, deliver_email, make_email, timeline

from threadline.actions.calls import complete_task
from threadline.actions.conversations import update_conversation
from threadline.actions.customers import (
    accept_suggestion,
    dismiss_suggestion,
    merge_customers,
    rename_customer,
    set_attributes,
    unmerge_customers,
)
from threadline.actions.errors import ActionError, Conflict, NotFound
from threadline.bootstrap import Container
from threadline.core.events import CustomersMerged, TimelineEntryAdded
from threadline.queries.customers import access_suggestion, customer_profile
from threadline.queries.scope import EVERYTHING, Scope, load_scope
from threadline.storage.db import Tx

pytestmark = pytest.mark.anyio


@pytest.fixture
async def desk(container: Container) -> Desk:
    return await build_desk(container)


async def _profile(c: Container, customer_id: int, scope: Scope = EVERYTHING) -> Any:
    return await c.db.read(lambda conn: customer_profile(conn, customer_id, scope=scope))


async def _rosa(c: Container, desk: Desk) -> Scope:
    rosa = desk.users["restricted"].id
    return await c.db.read(lambda conn: load_scope(conn, rosa, "agent"))


async def _write(c: Container, fn: Any) -> tuple[Any, list[Any]]:
    """Run an action; returns its result and the events it recorded for after commit."""
    result, events = await c.db.write(fn)
    await c.bus.dispatch(events)
    return result, events


async def test_the_panel_shows_every_conversation_on_every_channel(
    container: Container, desk: Desk
) -> None:
    c, billing, sales = container, desk.billing, desk.sales
    ana = billing.customer_id
    # Ana answers on the app (API) in her Billing conversation, then writes to Sales.
    api = await deliver_api(
        c,
        billing.api_inbox,
        {
            "customer": {"email": "ana@billing.example"},
            "conversation_id": billing.conversation_id,
            "text": "any news?",
        },
    )
    assert api.conversation_id == billing.conversation_id
    raw, _ = make_email(sender="ana@billing.example", subject="Buying more", to="sales@acme.test")
    to_sales = await deliver_email(c, sales.email_inbox, raw, rcpt_tos=["sales@acme.test"])
    assert to_sales.customer_id == ana
    sam = desk.users["agent"].id
    await c.bus.execute(
        lambda tx: update_conversation(tx, billing.conversation_id, actor_id=sam, assignee_id=sam)
    )

    profile = await _profile(c, ana)
    assert profile["name"] == "Ana Souza"
    assert [(i["kind"], i["value"], i["verified"]) for i in profile["identities"]] == [
        ("email", "ana@billing.example", True)
    ]
    assert profile["attributes"] == {}
    by_id = {t["id"]: t for t in profile["conversations"]}
    assert list(by_id) == [to_sales.conversation_id, billing.conversation_id]  # latest first
    mine = by_id[billing.conversation_id]
    assert mine["channels"] == ["email", "api"]
    assert (mine["subject"], mine["status"]) == ("Billing: order #4417", "open")
    assert (mine["assignee_id"], mine["assignee_name"]) == (sam, "Sam Rivera")
    assert by_id[to_sales.conversation_id]["channels"] == ["email"]
    assert profile["more_conversations"] is False

    # Rosa sees Ana through Billing, and only Billing's conversation.
    rosa = await _rosa(c, desk)
    seen = await _profile(c, ana, rosa)
    assert [t["id"] for t in seen["conversations"]] == [billing.conversation_id]
    assert await _profile(c, sales.customer_id, rosa) is None  # Sales's Ana: not found


async def test_open_callbacks_stay_on_the_panel_until_done(
    container: Container, desk: Desk
) -> None:
    c, billing = container, desk.billing
    caller = await c.db.read(
        lambda conn: conn.exec_driver_sql(
            f"SELECT customer_id FROM tasks WHERE id = {billing.task_id}"
        ).scalar_one()
    )
    profile = await _profile(c, caller)
    [callback] = profile["callbacks"]
    assert (callback["id"], callback["kind"]) == (billing.task_id, "callback")
    assert profile["conversations"][0]["channels"] == ["voice"]  # a missed call, no message
    await c.bus.execute(lambda tx: complete_task(tx, billing.task_id, actor_id=None))
    assert (await _profile(c, caller))["callbacks"] == []


async def test_a_suggestion_names_both_customers_and_accepting_it_merges_them(
    container: Container, desk: Desk
) -> None:
    c, billing = container, desk.billing
    ana = billing.customer_id
    first, second = billing.suggestions
    [one, two] = (await _profile(c, ana))["merge_suggestions"]
    assert [one["id"], two["id"]] == [first, second]
    claimant = one["customer"]["id"]
    assert one["customer"]["identities"][0]["value"] == "billing-claim-0"
    assert one["other_customer"] == {
        "id": ana,
        "name": "Ana Souza",
        "identities": [
            {
                "id": one["other_customer"]["identities"][0]["id"],
                "kind": "email",
                "value": "ana@billing.example",
                "verified": True,
            }
        ],
    }
    assert (one["identity"], one["status"]) == ("email:ana@billing.example", "open")
    # the claimant's panel shows it too
    assert [s["id"] for s in (await _profile(c, claimant))["merge_suggestions"]] == [first]

    merge_id, events = await _write(c, lambda tx: accept_suggestion(tx, first, actor="user:1"))
    assert CustomersMerged(claimant, ana) in events

    profile = await _profile(c, ana)
    assert [s["id"] for s in profile["merge_suggestions"]] == [second]
    [merge] = [m for m in profile["merges"] if m["id"] == merge_id]
    assert (merge["source_id"], merge["target_id"], merge["undoable"]) == (claimant, ana, True)
    entry = (await timeline(c, ana))[-1]
    assert entry["kind"] == "customers_merged"
    assert entry["data"]["suggestion_id"] == first
    with pytest.raises(Conflict):
        await c.bus.execute(lambda tx: accept_suggestion(tx, first, actor="user:1"))

    # Undone from the panel: both customers again, and the suggestion open again.
    await c.bus.execute(lambda tx: unmerge_customers(tx, merge_id=merge_id, actor="user:1"))
    profile = await _profile(c, ana)
    assert [s["id"] for s in profile["merge_suggestions"]] == [first, second]
    assert [m for m in profile["merges"] if m["id"] == merge_id] == []
    assert (await _profile(c, claimant))["merged_into_id"] is None


async def test_dismissing_a_suggestion_says_so_on_both_timelines(
    container: Container, desk: Desk
) -> None:
    c, billing = container, desk.billing
    ana = billing.customer_id
    first, second = billing.suggestions
    claimant = (await _profile(c, ana))["merge_suggestions"][1]["customer"]["id"]

    _, events = await _write(c, lambda tx: dismiss_suggestion(tx, second, actor="user:7"))
    assert {(e.customer_id, e.kind) for e in events if isinstance(e, TimelineEntryAdded)} == {
        (ana, "merge_suggestion_dismissed"),
        (claimant, "merge_suggestion_dismissed"),
    }
    assert [s["id"] for s in (await _profile(c, ana))["merge_suggestions"]] == [first]
    for who in (ana, claimant):
        entry = (await timeline(c, who))[-1]
        assert (entry["kind"], entry["data"]) == (
            "merge_suggestion_dismissed",
            {"suggestion_id": second, "actor": "user:7"},
        )
    for action in (dismiss_suggestion, accept_suggestion):
        with pytest.raises(Conflict):
            await c.bus.execute(lambda tx, act=action: act(tx, second, actor="user:7"))
    with pytest.raises(NotFound):
        await c.bus.execute(lambda tx: dismiss_suggestion(tx, 999_999, actor="user:7"))


async def test_a_suggestion_is_in_scope_only_with_both_its_customers(
    container: Container, desk: Desk
) -> None:
    # A stranger on Billing's app claims Sales's Ana: Rosa sees the stranger, not Ana.
    c, billing, sales = container, desk.billing, desk.sales
    out = await deliver_api(
        c,
        billing.api_inbox,
        {
            "customer": {"external_id": "x", "email": "ana@sales.example", "verified": False},
            "text": "it's me",
        },
    )
    assert out.customer_id is not None
    rosa = await _rosa(c, desk)
    assert (await _profile(c, out.customer_id, rosa))["merge_suggestions"] == []
    [crossing] = (await _profile(c, out.customer_id))["merge_suggestions"]
    assert crossing["other_customer"]["id"] == sales.customer_id
    with pytest.raises(NotFound):
        await c.db.read(lambda conn: access_suggestion(conn, rosa, crossing["id"]))
    with pytest.raises(NotFound):
        await c.db.read(lambda conn: access_suggestion(conn, rosa, sales.suggestions[0]))
    assert await c.db.read(lambda conn: access_suggestion(conn, rosa, billing.suggestions[0]))


async def test_attributes_are_set_and_removed_with_a_timeline_entry(
    container: Container, desk: Desk
) -> None:
    c, ana = container, desk.billing.customer_id

    def change(changes: dict[str, str | None]) -> Any:
        return lambda tx: set_attributes(tx, ana, changes, actor="user:3")

    got, events = await _write(c, change({"plan": "pro", "city": "Lisbon"}))
    assert got == {"plan": "pro", "city": "Lisbon"}
    assert [(e.customer_id, e.kind) for e in events] == [(ana, "attributes_changed")]
    got, _ = await _write(c, change({"city": None, "plan": "pro", "seats": "12"}))
    assert got == {"plan": "pro", "seats": "12"}
    assert (await _profile(c, ana))["attributes"] == {"plan": "pro", "seats": "12"}
    entry = (await timeline(c, ana))[-1]
    assert (entry["kind"], entry["data"]) == (
        "attributes_changed",
        {"actor": "user:3", "set": {"seats": "12"}, "removed": ["city"]},
    )
    # nothing changed, nothing recorded
    _, events = await _write(c, change({"plan": "pro", "gone": None}))
    assert events == []
    with pytest.raises(ActionError, match="at most 500"):
        await c.bus.execute(change({"note": "x" * 501}))
    with pytest.raises(ActionError, match="at most 50 attributes"):
        await c.bus.execute(change({f"k{i}": "v" for i in range(49)}))
    with pytest.raises(ActionError):
        await c.bus.execute(change({"bad/key": "v"}))
    assert (await _profile(c, ana))["attributes"] == {"plan": "pro", "seats": "12"}


async def test_a_customer_is_renamed_with_a_timeline_entry(
    container: Container, desk: Desk
) -> None:
    c, ana = container, desk.billing.customer_id
    name, events = await _write(
        c, lambda tx: rename_customer(tx, ana, "  Ana S. Souza ", actor="u")
    )
    assert name == "Ana S. Souza"
    assert [e.kind for e in events] == ["customer_renamed"]
    assert (await _profile(c, ana))["name"] == "Ana S. Souza"
    assert (await timeline(c, ana))[-1]["data"] == {
        "from": "Ana Souza",
        "to": "Ana S. Souza",
        "actor": "u",
    }
    for bad in ("", "x" * 201, "Ana\x00"):
        with pytest.raises(ActionError):
            await c.bus.execute(lambda tx, name=bad: rename_customer(tx, ana, name, actor="u"))


async def test_a_merged_customer_is_edited_through_the_one_they_became(
    container: Container, desk: Desk
) -> None:
    c = container
    source, target = desk.billing.merge_pair

    def merge(tx: Tx) -> int:
        return merge_customers(tx, source_id=source, target_id=target, actor="t")

    await c.bus.execute(merge)
    with pytest.raises(ActionError, match="was merged into"):
        await c.bus.execute(lambda tx: set_attributes(tx, source, {"a": "b"}, actor="t"))
    with pytest.raises(ActionError, match="was merged into"):
        await c.bus.execute(lambda tx: rename_customer(tx, source, "X", actor="t"))
    with pytest.raises(NotFound):
        await c.bus.execute(lambda tx: set_attributes(tx, 999_999, {"a": "b"}, actor="t"))
