"""Customers with their identities, merges and merge suggestions, and the
customer panel (``customer_profile``): everything about one person in one read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection

from threadline.actions.errors import NotFound
from threadline.queries.scope import Scope, access_customer
from threadline.storage.files import read_stored
from threadline.storage.tables import (
    calls,
    conversations,
    customer_merges,
    customers,
    identities,
    inbound_receipts,
    merge_suggestions,
    messages,
    tasks,
    users,
)

__all__ = [
    "access_suggestion",
    "customer_detail",
    "customer_profile",
    "find_customers",
    "identities_of",
    "list_receipts",
    "merge_suggestion",
    "merge_suggestions_of",
    "receipt_detail",
]

log = structlog.get_logger(__name__)

# The panel lists this many conversations, most recent activity first; the
# conversation list (filtered by customer) pages through the rest.
PROFILE_CONVERSATIONS = 100
SUGGESTIONS = 50
_MERGE_HOPS = 8  # merges chain only when a merged customer's target is merged in turn


def identities_of(conn: Connection, customer_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {cid: [] for cid in customer_ids}
    if customer_ids:
        for r in conn.execute(
            sa.select(identities)
            .where(identities.c.customer_id.in_(customer_ids))
            .order_by(identities.c.id)
        ):
            out[r.customer_id].append(
                {"id": r.id, "kind": r.kind, "value": r.value, "verified": r.verified}
            )
    return out


def _visible(conn: Connection, customer_id: int, scope: Scope) -> sa.Row[Any] | None:
    q = sa.select(customers).where(customers.c.id == customer_id)
    if (in_scope := scope.customer_clause(customers.c.id)) is not None:
        q = q.where(in_scope)
    return conn.execute(q).first()


def customer_detail(conn: Connection, customer_id: int, *, scope: Scope) -> dict[str, Any] | None:
    row = _visible(conn, customer_id, scope)
    if row is None:
        return None
    merges = conn.execute(
        sa.select(customer_merges.c.id, customer_merges.c.source_id, customer_merges.c.created_at)
        .where(customer_merges.c.target_id == customer_id, customer_merges.c.undone_at.is_(None))
        .order_by(customer_merges.c.id)
    ).all()
    return {
        "id": row.id,
        "name": row.name,
        "merged_into_id": row.merged_into_id,
        "created_at": row.created_at,
        "attributes": row.attributes,
        "identities": identities_of(conn, [row.id])[row.id],
        "merges": [dict(m._mapping) for m in merges],
        "merge_suggestions": [
            {
                "id": s["id"],
                "customer_id": s["customer"]["id"],
                "other_customer_id": s["other_customer"]["id"],
                "identity": s["identity"],
                "reason": s["reason"],
            }
            for s in merge_suggestions_of(conn, row.id, scope=scope)
        ],
    }


def customer_profile(conn: Connection, customer_id: int, *, scope: Scope) -> dict[str, Any] | None:
    """The customer panel: who they are (identities, attributes), every
    conversation in scope on every channel, open callbacks, open merge
    suggestions and the merges that can be undone. None when out of scope."""
    row = _visible(conn, customer_id, scope)
    if row is None:
        return None
    threads = _conversations(conn, customer_id, scope)
    return {
        "id": row.id,
        "name": row.name,
        "merged_into_id": row.merged_into_id,
        "created_at": row.created_at,
        "attributes": row.attributes,
        "identities": identities_of(conn, [row.id])[row.id],
        "conversations": threads[:PROFILE_CONVERSATIONS],
        "more_conversations": len(threads) > PROFILE_CONVERSATIONS,
        "callbacks": _open_callbacks(conn, customer_id, scope),
        "merge_suggestions": merge_suggestions_of(conn, customer_id, scope=scope),
        "merges": _undoable_merges(conn, customer_id),
    }


def _conversations(conn: Connection, customer_id: int, scope: Scope) -> list[dict[str, Any]]:
    q = (
        sa.select(
            conversations.c.id,
            conversations.c.subject,
            conversations.c.status,
            conversations.c.priority,
            conversations.c.assignee_id,
            users.c.name.label("assignee_name"),
            conversations.c.last_activity_at,
        )
        .outerjoin(users, users.c.id == conversations.c.assignee_id)
        .where(conversations.c.customer_id == customer_id)
        .order_by(conversations.c.last_activity_at.desc(), conversations.c.id.desc())
        .limit(PROFILE_CONVERSATIONS + 1)
    )
    if (in_scope := scope.conversation_clause()) is not None:
        q = q.where(in_scope)
    rows = [{**r._mapping, "channels": []} for r in conn.execute(q)]
    by_id = {r["id"]: r for r in rows}
    if by_id:
        ids = sorted(by_id)
        # In the order the conversation first used them; notes are on no channel.
        first = sa.func.min(messages.c.id).label("first_id")
        used = (
            sa.select(messages.c.conversation_id, messages.c.channel, first)
            .where(messages.c.conversation_id.in_(ids), messages.c.direction != "note")
            .group_by(messages.c.conversation_id, messages.c.channel)
            .order_by(first)
        )
        for r in conn.execute(used):
            by_id[r.conversation_id]["channels"].append(r.channel)
        called = sa.select(calls.c.conversation_id).where(calls.c.conversation_id.in_(ids))
        for conversation_id in set(conn.execute(called.distinct()).scalars()):
            if "voice" not in by_id[conversation_id]["channels"]:
                by_id[conversation_id]["channels"].append("voice")
    return rows


def _open_callbacks(conn: Connection, customer_id: int, scope: Scope) -> list[dict[str, Any]]:
    # Through the conversation: a merge moves conversations, not tasks.
    q = (
        sa.select(
            tasks.c.id,
            tasks.c.kind,
            tasks.c.due_at,
            tasks.c.conversation_id,
            tasks.c.call_id,
            tasks.c.assignee_id,
            tasks.c.created_at,
        )
        .join(conversations, conversations.c.id == tasks.c.conversation_id)
        .where(
            conversations.c.customer_id == customer_id,
            tasks.c.kind == "callback",
            tasks.c.status == "open",
        )
        .order_by(tasks.c.due_at, tasks.c.id)
        .limit(PROFILE_CONVERSATIONS)
    )
    if (in_scope := scope.conversation_clause()) is not None:
        q = q.where(in_scope)
    return [dict(r._mapping) for r in conn.execute(q)]


def _undoable_merges(conn: Connection, customer_id: int) -> list[dict[str, Any]]:
    """Merges into or out of this customer that are not undone; ``undoable``
    unless the customer merged into was itself merged since (undo that first)."""
    source = customers.alias("source")
    target = customers.alias("target")
    q = (
        sa.select(
            customer_merges.c.id,
            customer_merges.c.source_id,
            source.c.name.label("source_name"),
            customer_merges.c.target_id,
            target.c.name.label("target_name"),
            customer_merges.c.actor,
            customer_merges.c.created_at,
            target.c.merged_into_id.is_(None).label("undoable"),
        )
        .join(source, source.c.id == customer_merges.c.source_id)
        .join(target, target.c.id == customer_merges.c.target_id)
        .where(
            customer_merges.c.undone_at.is_(None),
            sa.or_(
                customer_merges.c.source_id == customer_id,
                customer_merges.c.target_id == customer_id,
            ),
        )
        .order_by(customer_merges.c.id.desc())
        .limit(SUGGESTIONS)
    )
    return [{**r._mapping, "undoable": bool(r.undoable)} for r in conn.execute(q)]


def merge_suggestions_of(
    conn: Connection, customer_id: int, *, scope: Scope, limit: int = SUGGESTIONS
) -> list[dict[str, Any]]:
    """Open suggestions naming this customer on either side, oldest first, each
    with both customers' names and identities. A suggestion names the other
    customer, so only those whose other customer is in scope too are listed."""
    q = sa.select(merge_suggestions).where(
        merge_suggestions.c.status == "open",
        sa.or_(
            merge_suggestions.c.customer_id == customer_id,
            merge_suggestions.c.other_customer_id == customer_id,
        ),
    )
    for side in (merge_suggestions.c.customer_id, merge_suggestions.c.other_customer_id):
        if (visible := scope.customer_clause(side)) is not None:
            q = q.where(visible)
    rows = conn.execute(q.order_by(merge_suggestions.c.id).limit(limit)).all()
    return _suggestion_dicts(conn, list(rows))


def _suggestion_dicts(conn: Connection, rows: list[sa.Row[Any]]) -> list[dict[str, Any]]:
    people = sorted({r.customer_id for r in rows} | {r.other_customer_id for r in rows})
    q = sa.select(customers.c.id, customers.c.name).where(customers.c.id.in_(people))
    names: dict[int, str | None] = {r.id: r.name for r in conn.execute(q)}
    ids = identities_of(conn, people)

    def person(customer_id: int) -> dict[str, Any]:
        return {"id": customer_id, "name": names.get(customer_id), "identities": ids[customer_id]}

    return [
        {
            "id": r.id,
            "status": r.status,
            "identity": r.identity,
            "reason": r.reason,
            "created_at": r.created_at,
            "customer": person(r.customer_id),
            "other_customer": person(r.other_customer_id),
        }
        for r in rows
    ]


def merge_suggestion(conn: Connection, suggestion_id: int) -> dict[str, Any] | None:
    """One suggestion, in any status (check access first)."""
    rows = conn.execute(
        sa.select(merge_suggestions).where(merge_suggestions.c.id == suggestion_id)
    ).all()
    return _suggestion_dicts(conn, list(rows))[0] if rows else None


def access_suggestion(conn: Connection, scope: Scope, suggestion_id: int) -> int:
    """A suggestion is in scope when both its customers are: it names them both,
    and accepting it merges them. A customer merged since counts as the one they
    became, so a settled suggestion answers 409 (settled), not 404."""
    row = conn.execute(
        sa.select(merge_suggestions.c.customer_id, merge_suggestions.c.other_customer_id).where(
            merge_suggestions.c.id == suggestion_id
        )
    ).first()
    missing = NotFound(f"merge suggestion {suggestion_id} not found")
    if row is None:
        raise missing
    try:
        for customer_id in row:
            access_customer(conn, scope, _became(conn, customer_id))
    except NotFound:
        raise missing from None
    return suggestion_id


def _became(conn: Connection, customer_id: int) -> int:
    """The customer ``customer_id`` is now, following merges (a few hops at most)."""
    for _ in range(_MERGE_HOPS):
        into = conn.execute(
            sa.select(customers.c.merged_into_id).where(customers.c.id == customer_id)
        ).scalar()
        if into is None:
            break
        customer_id = into
    return customer_id


def find_customers(
    conn: Connection,
    *,
    scope: Scope,
    identity: tuple[str, str] | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    q = sa.select(customers.c.id, customers.c.name, customers.c.created_at).where(
        customers.c.merged_into_id.is_(None)
    )
    if identity is not None:
        q = q.join(identities, identities.c.customer_id == customers.c.id).where(
            identities.c.kind == identity[0], identities.c.value == identity[1]
        )
    if before is not None:
        q = q.where(customers.c.id < before)
    if (in_scope := scope.customer_clause(customers.c.id)) is not None:
        q = q.where(in_scope)
    rows = conn.execute(q.order_by(customers.c.id.desc()).limit(limit)).all()
    ids = identities_of(conn, [r.id for r in rows])
    return [{**dict(r._mapping), "identities": ids[r.id]} for r in rows]


_RECEIPT_COLUMNS = (
    inbound_receipts.c.id,
    inbound_receipts.c.inbox_id,
    inbound_receipts.c.source,
    inbound_receipts.c.provider_message_id,
    inbound_receipts.c.status,
    inbound_receipts.c.error,
    inbound_receipts.c.message_id,
    inbound_receipts.c.received_at,
    inbound_receipts.c.processed_at,
    inbound_receipts.c.replays,
)


def list_receipts(
    conn: Connection,
    *,
    status: str | None = "quarantined",
    limit: int = 50,
    before: int | None = None,
) -> list[dict[str, Any]]:
    q = sa.select(*_RECEIPT_COLUMNS).order_by(inbound_receipts.c.id.desc()).limit(limit)
    if status is not None:
        q = q.where(inbound_receipts.c.status == status)
    if before is not None:
        q = q.where(inbound_receipts.c.id < before)
    return [dict(r._mapping) for r in conn.execute(q)]


def receipt_detail(
    conn: Connection, receipt_id: int, files: Path | None = None
) -> dict[str, Any] | None:
    """One receipt with its payload, read from the file store (``files``) when it
    is kept there. A stored file that is gone leaves the payload empty."""
    row = conn.execute(
        sa.select(
            *_RECEIPT_COLUMNS,
            inbound_receipts.c.payload,
            inbound_receipts.c.payload_file,
            inbound_receipts.c.context,
        ).where(inbound_receipts.c.id == receipt_id)
    ).first()
    if row is None:
        return None
    out = dict(row._mapping)
    data = row.payload
    if row.payload_file is not None:
        try:
            data = read_stored(files, row.payload_file)
        except OSError:
            log.warning("receipt.payload_file_missing", receipt=receipt_id)
    out.pop("payload_file")
    out["payload"] = data.decode("utf-8", errors="replace")
    return out
