"""One search box: customers (name and every identity), conversation subjects and
message text, each group newest first, in the user's scope.

The filters (channel, status, customer) narrow conversations and messages;
customers are found by who they are. Every hit carries ``segments``: its text
as ``(text, is_match)`` pieces for the page to escape and mark.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Literal, get_args

from sqlalchemy.engine import Connection

from threadline.queries.scope import Scope
from threadline.queries.search.conversations import search_conversations
from threadline.queries.search.customers import search_customers
from threadline.queries.search.messages import search_messages
from threadline.queries.search.terms import parse, segments

__all__ = ["KINDS", "MAX_LIMIT", "Kind", "search", "search_messages"]

Kind = Literal["customers", "conversations", "messages"]
KINDS: tuple[Kind, ...] = get_args(Kind)
MAX_LIMIT = 101  # a page of 100, and one more to tell whether another follows


def search(
    conn: Connection,
    text: str,
    *,
    scope: Scope,
    kinds: Collection[str] = KINDS,
    channel: str | None = None,
    status: str | None = None,
    customer_id: int | None = None,
    limit: int = 20,
    before: int | None = None,
) -> dict[Kind, list[dict[str, Any]]]:
    """Up to ``limit`` hits of each kind asked for (the others are empty), each
    below ``before`` in its own ids: a cursor pages one kind at a time."""
    terms = parse(text)
    limit = max(1, min(limit, MAX_LIMIT))
    found: dict[Kind, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    if "customers" in kinds:
        found["customers"] = search_customers(conn, terms, scope=scope, before=before, limit=limit)
    if "conversations" in kinds:
        found["conversations"] = search_conversations(
            conn,
            terms,
            scope=scope,
            channel=channel,
            status=status,
            customer_id=customer_id,
            before=before,
            limit=limit,
        )
    if "messages" in kinds:
        hits = search_messages(
            conn,
            terms.text,
            scope=scope,
            customer_id=customer_id,
            channel=channel,
            status=status,
            before=before,
            limit=limit,
        )
        for hit in hits:
            hit["segments"] = segments(hit["snippet"], terms, whole_words=True)
        found["messages"] = hits
    return found
