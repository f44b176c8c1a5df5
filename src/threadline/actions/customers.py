"""Customers: reversible merges, merge suggestions accepted or dismissed,
identities added by hand, names and attributes edited by agents.

A merge moves rows from one customer to another and writes down exactly which
rows it moved, so an unmerge moves those back and nothing else, even after the
merged customer has written again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from threadline.actions.errors import ActionError, Conflict, NotFound
from threadline.actions.timeline import add_entry
from threadline.core.attributes import InvalidAttributes, apply_changes, check_name
from threadline.core.events import CustomersMerged
from threadline.core.model import IdentityRef
from threadline.storage.db import Tx
from threadline.storage.tables import (
    conversations,
    customer_merges,
    customers,
    identities,
    merge_suggestions,
    messages,
    timeline_entries,
)

__all__ = [
    "accept_suggestion",
    "add_identity",
    "claim_identity",
    "create_customer",
    "dismiss_suggestion",
    "merge_customers",
    "rename_customer",
    "set_attributes",
    "suggest_merge",
    "unmerge_customers",
]


_MOVABLE = {
    "identities": identities,
    "conversations": conversations,
    "messages": messages,
    "timeline_entries": timeline_entries,
}


def _live_customer(tx: Tx, customer_id: int, *, lock: bool = False) -> sa.Row[Any]:
    """``lock``: the row is read to be rewritten (PostgreSQL locks it until commit;
    SQLite's one writer already runs writes one at a time)."""
    q = sa.select(customers).where(customers.c.id == customer_id)
    row = tx.conn.execute(q.with_for_update() if lock else q).first()
    if row is None:
        raise NotFound(f"customer {customer_id} not found")
    if row.merged_into_id is not None:
        raise ActionError(f"customer {customer_id} was merged into {row.merged_into_id}")
    return row


def create_customer(tx: Tx, *, name: str | None, refs: list[IdentityRef]) -> int:
    """A customer with these identities; a taken identity refuses the whole action
    (it runs in one transaction, so the customer row goes too)."""
    customer_id: int = tx.conn.execute(
        customers.insert().returning(customers.c.id),
        {"name": name, "created_at": tx.now, "updated_at": tx.now},
    ).scalar_one()
    for ref in refs:
        add_identity(tx, customer_id, ref)
    return customer_id


def add_identity(tx: Tx, customer_id: int, ref: IdentityRef) -> int:
    _live_customer(tx, customer_id)
    taken = tx.conn.execute(
        sa.select(identities.c.customer_id).where(
            identities.c.kind == ref.kind, identities.c.value == ref.value
        )
    ).first()
    if taken is not None:
        raise Conflict(f"{ref} already belongs to customer {taken.customer_id}")
    identity_id: int = tx.conn.execute(
        identities.insert().returning(identities.c.id),
        {
            "customer_id": customer_id,
            "kind": ref.kind,
            "value": ref.value,
            "verified": ref.verified,
            "created_at": tx.now,
        },
    ).scalar_one()
    add_entry(
        tx,
        customer_id=customer_id,
        conversation_id=None,
        kind="identity_added",
        data={"identity": str(ref), "verified": ref.verified},
    )
    return identity_id


def suggest_merge(tx: Tx, customer_id: int, other_id: int, ref: IdentityRef) -> None:
    """``customer_id`` claims ``ref``, which is ``other_id``'s: an agent decides
    whether they are one person (DESIGN.md §3). One open suggestion per pair."""
    exists = tx.conn.execute(
        sa.select(merge_suggestions.c.id).where(
            merge_suggestions.c.customer_id == customer_id,
            merge_suggestions.c.other_customer_id == other_id,
            merge_suggestions.c.status == "open",
        )
    ).first()
    if exists is None:
        tx.conn.execute(
            merge_suggestions.insert(),
            {
                "customer_id": customer_id,
                "other_customer_id": other_id,
                "identity": str(ref),
                "reason": f"unverified {ref.kind} matches another customer",
                "status": "open",
                "created_at": tx.now,
            },
        )


def claim_identity(tx: Tx, customer_id: int, ref: IdentityRef) -> str:
    """The customer says ``ref`` is theirs (a chat visitor typing an email).

    Unknown: it becomes their claimed identity ("added"). Already theirs: nothing
    ("known"). Someone else's: a merge suggestion, never a merge ("suggested").
    """
    owner = tx.conn.execute(
        sa.select(identities.c.customer_id).where(
            identities.c.kind == ref.kind, identities.c.value == ref.value
        )
    ).scalar()
    if owner == customer_id:
        return "known"
    if owner is not None:
        suggest_merge(tx, customer_id, int(owner), ref)
        return "suggested"
    add_identity(tx, customer_id, ref)
    return "added"


def merge_customers(
    tx: Tx, *, source_id: int, target_id: int, actor: str, suggestion_id: int | None = None
) -> int:
    """Fold ``source`` into ``target``; returns the merge id that undoes it.
    ``suggestion_id``: the merge suggestion it accepts, named in the timeline."""
    if source_id == target_id:
        raise ActionError("cannot merge a customer into itself")
    source = _live_customer(tx, source_id)
    target = _live_customer(tx, target_id)
    moved: dict[str, list[int]] = {}
    for name, table in _MOVABLE.items():
        ids = list(
            tx.conn.execute(sa.select(table.c.id).where(table.c.customer_id == source_id)).scalars()
        )
        moved[name] = ids
        if ids:
            tx.conn.execute(
                table.update().where(table.c.customer_id == source_id).values(customer_id=target_id)
            )
    tx.conn.execute(
        customers.update()
        .where(customers.c.id == source_id)
        .values(merged_into_id=target_id, updated_at=tx.now)
    )
    if target.name is None and source.name is not None:
        tx.conn.execute(
            customers.update().where(customers.c.id == target_id).values(name=source.name)
        )
    # The suggestions this merge settles; an unmerge opens them again.
    between = sa.select(merge_suggestions.c.id).where(
        merge_suggestions.c.status == "open",
        sa.or_(
            sa.and_(
                merge_suggestions.c.customer_id == source_id,
                merge_suggestions.c.other_customer_id == target_id,
            ),
            sa.and_(
                merge_suggestions.c.customer_id == target_id,
                merge_suggestions.c.other_customer_id == source_id,
            ),
        ),
    )
    settled = list(tx.conn.execute(between).scalars())
    if settled:
        tx.conn.execute(
            merge_suggestions.update()
            .where(merge_suggestions.c.id.in_(settled))
            .values(status="merged")
        )
    moved["merge_suggestions"] = settled
    merge_id: int = tx.conn.execute(
        customer_merges.insert().returning(customer_merges.c.id),
        {
            "source_id": source_id,
            "target_id": target_id,
            "moved": moved,
            "actor": actor,
            "created_at": tx.now,
        },
    ).scalar_one()
    add_entry(
        tx,
        customer_id=target_id,
        conversation_id=None,
        kind="customers_merged",
        data={
            "merge_id": merge_id,
            "source_id": source_id,
            "actor": actor,
            **({"suggestion_id": suggestion_id} if suggestion_id is not None else {}),
        },
    )
    tx.emit(CustomersMerged(source_id, target_id))
    return merge_id


def unmerge_customers(tx: Tx, *, merge_id: int, actor: str) -> int:
    """Undo a merge; returns the restored customer's id. The merge suggestions the
    merge settled are open again: the claim that raised them still stands."""
    merge = tx.conn.execute(
        sa.select(customer_merges).where(customer_merges.c.id == merge_id)
    ).first()
    if merge is None:
        raise NotFound(f"merge {merge_id} not found")
    if merge.undone_at is not None:
        raise Conflict(f"merge {merge_id} was already undone")
    target = tx.conn.execute(
        sa.select(customers.c.merged_into_id).where(customers.c.id == merge.target_id)
    ).scalar_one()
    if target is not None:
        raise ActionError(
            f"customer {merge.target_id} was itself merged into {target}; undo that merge first"
        )
    for name, table in _MOVABLE.items():
        ids = merge.moved.get(name, [])
        for start in range(0, len(ids), 500):
            tx.conn.execute(
                table.update()
                .where(
                    table.c.id.in_(ids[start : start + 500]), table.c.customer_id == merge.target_id
                )
                .values(customer_id=merge.source_id)
            )
    tx.conn.execute(
        customers.update()
        .where(customers.c.id == merge.source_id)
        .values(merged_into_id=None, updated_at=tx.now)
    )
    tx.conn.execute(
        customer_merges.update().where(customer_merges.c.id == merge_id).values(undone_at=tx.now)
    )
    if settled := merge.moved.get("merge_suggestions", []):
        tx.conn.execute(
            merge_suggestions.update()
            .where(merge_suggestions.c.id.in_(settled), merge_suggestions.c.status == "merged")
            .values(status="open")
        )
    for customer_id in (merge.target_id, merge.source_id):
        add_entry(
            tx,
            customer_id=customer_id,
            conversation_id=None,
            kind="customers_unmerged",
            data={"merge_id": merge_id, "actor": actor},
        )
    tx.emit(CustomersMerged(merge.source_id, merge.target_id, undone=True))
    return int(merge.source_id)


def set_attributes(
    tx: Tx, customer_id: int, changes: Mapping[str, str | None], *, actor: str
) -> dict[str, str]:
    """Set each key to its value, or remove it for None; returns every attribute."""
    row = _live_customer(tx, customer_id, lock=True)
    current = dict(row.attributes) if isinstance(row.attributes, dict) else {}
    try:
        updated = apply_changes(current, changes)
    except InvalidAttributes as exc:
        raise ActionError(str(exc)) from exc
    if updated == current:
        return updated
    tx.conn.execute(
        customers.update()
        .where(customers.c.id == customer_id)
        .values(attributes=updated, updated_at=tx.now)
    )
    add_entry(
        tx,
        customer_id=customer_id,
        conversation_id=None,
        kind="attributes_changed",
        data={
            "actor": actor,
            "set": {k: v for k, v in updated.items() if current.get(k) != v},
            "removed": sorted(k for k in current if k not in updated),
        },
    )
    return updated


def rename_customer(tx: Tx, customer_id: int, name: str, *, actor: str) -> str:
    """Returns the name as stored (trimmed)."""
    row = _live_customer(tx, customer_id, lock=True)
    try:
        name = check_name(name)
    except InvalidAttributes as exc:
        raise ActionError(str(exc)) from exc
    if name != row.name:
        tx.conn.execute(
            customers.update()
            .where(customers.c.id == customer_id)
            .values(name=name, updated_at=tx.now)
        )
        add_entry(
            tx,
            customer_id=customer_id,
            conversation_id=None,
            kind="customer_renamed",
            data={"from": row.name, "to": name, "actor": actor},
        )
    return name


def _open_suggestion(tx: Tx, suggestion_id: int) -> sa.Row[Any]:
    row = tx.conn.execute(
        sa.select(merge_suggestions)
        .where(merge_suggestions.c.id == suggestion_id)
        .with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"merge suggestion {suggestion_id} not found")
    if row.status != "open":
        raise Conflict(f"merge suggestion {suggestion_id} was already {row.status}")
    return row


def accept_suggestion(tx: Tx, suggestion_id: int, *, actor: str) -> int:
    """Merge the customer who claimed the identity into the one who owns it;
    returns the merge id (which undoes it)."""
    suggestion = _open_suggestion(tx, suggestion_id)
    merge_id = merge_customers(
        tx,
        source_id=suggestion.customer_id,
        target_id=suggestion.other_customer_id,
        actor=actor,
        suggestion_id=suggestion_id,
    )  # which settles the suggestion, and an unmerge opens it again
    return merge_id


def dismiss_suggestion(tx: Tx, suggestion_id: int, *, actor: str) -> None:
    """The two are different people; both timelines say who decided so."""
    suggestion = _open_suggestion(tx, suggestion_id)
    tx.conn.execute(
        merge_suggestions.update()
        .where(merge_suggestions.c.id == suggestion_id)
        .values(status="dismissed")
    )
    for customer_id in (suggestion.customer_id, suggestion.other_customer_id):
        add_entry(
            tx,
            customer_id=customer_id,
            conversation_id=None,
            kind="merge_suggestion_dismissed",
            data={"suggestion_id": suggestion_id, "actor": actor},
        )
