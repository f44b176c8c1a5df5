"""Customers with their identities, merges and merge suggestions."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.queries.scope import Scope
from threadline.storage.tables import (
    customer_merges,
    customers,
    identities,
    inbound_receipts,
    merge_suggestions,
)

__all__ = ["customer_detail", "find_customers", "list_receipts", "receipt_detail"]


def _identities(conn: Connection, customer_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
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


def customer_detail(conn: Connection, customer_id: int, *, scope: Scope) -> dict[str, Any] | None:
    q = sa.select(customers).where(customers.c.id == customer_id)
    if (in_scope := scope.customer_clause(customers.c.id)) is not None:
        q = q.where(in_scope)
    row = conn.execute(q).first()
    if row is None:
        return None
    merges = conn.execute(
        sa.select(customer_merges.c.id, customer_merges.c.source_id, customer_merges.c.created_at)
        .where(customer_merges.c.target_id == customer_id, customer_merges.c.undone_at.is_(None))
        .order_by(customer_merges.c.id)
    ).all()
    open_ = sa.select(merge_suggestions).where(
        merge_suggestions.c.status == "open",
        sa.or_(
            merge_suggestions.c.customer_id == customer_id,
            merge_suggestions.c.other_customer_id == customer_id,
        ),
    )
    # A suggestion names the other customer: only one the user may see.
    for side in (merge_suggestions.c.customer_id, merge_suggestions.c.other_customer_id):
        if (visible := scope.customer_clause(side)) is not None:
            open_ = open_.where(visible)
    suggestions = conn.execute(open_).all()
    return {
        "id": row.id,
        "name": row.name,
        "merged_into_id": row.merged_into_id,
        "created_at": row.created_at,
        "identities": _identities(conn, [row.id])[row.id],
        "merges": [dict(m._mapping) for m in merges],
        "merge_suggestions": [
            {
                "id": s.id,
                "customer_id": s.customer_id,
                "other_customer_id": s.other_customer_id,
                "identity": s.identity,
                "reason": s.reason,
            }
            for s in suggestions
        ],
    }


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
    ids = _identities(conn, [r.id for r in rows])
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


def receipt_detail(conn: Connection, receipt_id: int) -> dict[str, Any] | None:
    row = conn.execute(
        sa.select(*_RECEIPT_COLUMNS, inbound_receipts.c.payload, inbound_receipts.c.context).where(
            inbound_receipts.c.id == receipt_id
        )
    ).first()
    if row is None:
        return None
    out = dict(row._mapping)
    out["payload"] = row.payload.decode("utf-8", errors="replace")
    return out
