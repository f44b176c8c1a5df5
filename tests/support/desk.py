"""A help desk with two teams, for the role and scope tests.

"Billing" works one set of inboxes (email, API, voice), "Sales" another; each
side holds a customer with an email conversation, a missed call's callback task,
two customers ready to merge, an undoable merge, two open merge suggestions
(strangers on the API inbox claiming Ana's email) and a quarantined receipt, so
every route's path can name a real object on either side. Rosa is an agent
restricted to Billing: Sales's objects are out of her scope.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from tests.support.factories import (
    deliver_api,
    deliver_email,
    make_agent,
    make_email,
    make_inbox,
    make_team,
)
from threadline.actions.calls import record_call
from threadline.actions.customers import merge_customers
from threadline.actions.receipts import Payload
from threadline.bootstrap import Container
from threadline.core.identity import normalize
from threadline.core.model import CallEvent
from threadline.storage.tables import merge_suggestions

__all__ = ["PASSWORD", "Desk", "Side", "User", "build_desk"]

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class User:
    id: int
    email: str
    token: str


@dataclass(frozen=True)
class Side:
    team_id: int
    email_inbox: int
    api_inbox: int
    voice_inbox: int
    customer_id: int  # wrote by email
    conversation_id: int
    task_id: int  # a callback owed for a missed call
    merge_pair: tuple[int, int]  # two customers of this side, not merged
    merge_id: int  # an undoable merge of two others
    suggestions: tuple[int, int]  # open: a claimant of Ana's email -> Ana; to accept, to dismiss
    receipt_id: int  # quarantined


@dataclass(frozen=True)
class Desk:
    users: dict[str, User]  # admin, agent, viewer, restricted (Rosa, Billing only)
    billing: Side
    sales: Side


async def _side(
    c: Container,
    name: str,
    slug: str,
    phone: str,
    caller_phone: str,
    *,
    members: list[int],
    restrict: list[int],
) -> Side:
    address = f"{slug}@acme.test"
    email_inbox = await make_inbox(c, "email", name, address, {"webhook_secret": "s"})
    api_inbox = await make_inbox(c, "api", f"{name} app", f"{slug}-app", {})
    voice_inbox = await make_inbox(c, "voice", f"{name} line", phone, {})
    raw, _ = make_email(sender=f"ana@{slug}.example", subject=f"{name}: order #4417", to=address)
    first = await deliver_email(c, email_inbox, raw, rcpt_tos=[address])
    assert first.conversation_id is not None
    assert first.customer_id is not None

    caller = normalize("phone", caller_phone, verified=True)
    missed = CallEvent(
        call_id=f"CA{slug}",
        key=f"CA{slug}:no-answer",
        caller=caller,
        direction="inbound",
        status="no-answer",
        answered=False,
    )
    call = await c.bus.execute(lambda tx: record_call(tx, c.bus.cfg, voice_inbox, missed))
    assert call.task_id is not None

    people = []
    for n in range(4):
        out = await deliver_api(
            c,
            api_inbox,
            {"id": f"{slug}-{n}", "customer": {"external_id": f"{slug}-{n}"}, "text": "hello"},
        )
        assert out.customer_id is not None
        people.append(out.customer_id)
    merge_id = await c.bus.execute(
        lambda tx: merge_customers(tx, source_id=people[2], target_id=people[3], actor="test")
    )
    suggestions = []
    for n in range(2):
        claim = {"external_id": f"{slug}-claim-{n}", "email": f"ana@{slug}.example"}
        out = await deliver_api(
            c,
            api_inbox,
            {
                "id": f"{slug}-claim-{n}",
                "customer": {**claim, "verified": False},
                "text": "it's Ana",
            },
        )
        assert out.customer_id is not None
        suggestions.append(await _suggestion(c, out.customer_id))
    bad = await c.bus.ingest(Payload(api_inbox, "api", b"{not json", {}))
    assert bad.status == "quarantined", bad
    team_id = await make_team(
        c, name, members=members, inboxes=[email_inbox, api_inbox, voice_inbox], restrict=restrict
    )
    return Side(
        team_id=team_id,
        email_inbox=email_inbox,
        api_inbox=api_inbox,
        voice_inbox=voice_inbox,
        customer_id=first.customer_id,
        conversation_id=first.conversation_id,
        task_id=call.task_id,
        merge_pair=(people[0], people[1]),
        merge_id=merge_id,
        suggestions=(suggestions[0], suggestions[1]),
        receipt_id=bad.receipt_id,
    )


async def _suggestion(c: Container, claimant: int) -> int:
    q = sa.select(merge_suggestions.c.id).where(merge_suggestions.c.customer_id == claimant)
    found: int = await c.db.read(lambda conn: conn.execute(q).scalar_one())
    return found


async def build_desk(c: Container) -> Desk:
    users = {}
    for role, email, user_role in [
        ("admin", "ada@acme.test", "admin"),
        ("agent", "sam@acme.test", "agent"),
        ("viewer", "vic@acme.test", "viewer"),
        ("restricted", "rosa@acme.test", "agent"),
    ]:
        user_id, token = await make_agent(c, email=email, role=user_role, password=PASSWORD)
        users[role] = User(user_id, email, token)
    rosa, sam = users["restricted"].id, users["agent"].id
    billing = await _side(
        c,
        "Billing",
        "billing",
        "+14155550100",
        "+14155550111",
        members=[rosa, sam],
        restrict=[rosa],
    )
    sales = await _side(
        c, "Sales", "sales", "+14155550200", "+14155550122", members=[sam], restrict=[]
    )
    return Desk(users=users, billing=billing, sales=sales)
