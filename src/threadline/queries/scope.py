"""What one user may see: every inbox, or only the inboxes of their teams.

A conversation is in scope when its inbox (``conversations.inbox_id``) is one of
the user's. A customer is in scope when they have a conversation in scope; their
timeline, messages and search hits then show only conversations in scope, plus
the customer-level entries (merges) that belong to no conversation.

The scope is built once per request (``load_scope``) and passed to every query.
The ``access_*`` functions fetch one object with the check; an object out of
scope is ``NotFound``, exactly like one that does not exist, so a 404 never
tells a restricted user what exists elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.actions.errors import NotFound
from threadline.storage.tables import (
    conversations,
    customer_merges,
    customers,
    tasks,
    team_inboxes,
    team_members,
    users,
)

__all__ = [
    "EVERYTHING",
    "Scope",
    "access_conversation",
    "access_customer",
    "access_merge",
    "access_task",
    "load_scope",
]

_Clause = sa.ColumnElement[bool]
_SCOPED = conversations.alias("scoped_conversations")


@dataclass(frozen=True, slots=True)
class Scope:
    """``Scope(all=True)``, or the inbox ids a restricted user sees (maybe none)."""

    all: bool = False
    inbox_ids: frozenset[int] = frozenset()

    def allows_inbox(self, inbox_id: int | None) -> bool:
        return self.all or (inbox_id is not None and inbox_id in self.inbox_ids)

    def conversation_clause(self) -> _Clause | None:
        """A filter on ``conversations``; None when there is nothing to filter."""
        if self.all:
            return None
        # A conversation with no inbox (a call logged by hand) is in nobody's team.
        return conversations.c.inbox_id.in_(sorted(self.inbox_ids))

    def conversation_ids_clause(self, column: sa.ColumnElement[int | None]) -> _Clause | None:
        """``column`` (a conversation id) names a conversation in scope.

        A primary-key probe per row the outer query reads: paged queries stop
        after a page, where ``IN (every conversation in scope)`` would read them all.
        """
        if self.all:
            return None
        # An alias: the outer query may read conversations too (search does).
        theirs = _SCOPED.c.inbox_id.in_(sorted(self.inbox_ids))
        return sa.exists(
            sa.select(sa.literal(1)).where(_SCOPED.c.id == column, theirs).correlate_except(_SCOPED)
        )

    def customer_clause(self, column: sa.ColumnElement[int]) -> _Clause | None:
        """``column`` (a customer id) names a customer with a conversation in scope."""
        clause = self.conversation_clause()
        if clause is None:
            return None
        return sa.exists(
            sa.select(sa.literal(1))
            .where(conversations.c.customer_id == column, clause)
            .correlate_except(conversations)
        )


EVERYTHING = Scope(all=True)


# Built once: they run on every request of a non-admin, and constructing a
# statement costs more than running it.
_ALL_INBOXES = sa.select(users.c.all_inboxes).where(users.c.id == sa.bindparam("user_id"))
_TEAM_INBOXES = (
    sa.select(team_inboxes.c.inbox_id)
    .distinct()
    .join(team_members, team_members.c.team_id == team_inboxes.c.team_id)
    .where(team_members.c.user_id == sa.bindparam("user_id"))
)


def load_scope(conn: Connection, user_id: int, role: str) -> Scope:
    """The scope of a signed-in user or token owner, read fresh (a change of teams
    applies to the next request)."""
    if role == "admin":
        return EVERYTHING
    everything = conn.execute(_ALL_INBOXES, {"user_id": user_id}).scalar()
    if everything is None:
        return Scope()  # the user is gone: nothing
    if everything:
        return EVERYTHING
    ids = conn.execute(_TEAM_INBOXES, {"user_id": user_id}).scalars()
    return Scope(inbox_ids=frozenset(ids))


def access_conversation(conn: Connection, scope: Scope, conversation_id: int) -> int:
    """The conversation's id, if it exists and is in scope."""
    inbox = conn.execute(
        sa.select(conversations.c.id, conversations.c.inbox_id).where(
            conversations.c.id == conversation_id
        )
    ).first()
    if inbox is None or not scope.allows_inbox(inbox.inbox_id):
        raise NotFound(f"conversation {conversation_id} not found")
    return conversation_id


def access_customer(conn: Connection, scope: Scope, customer_id: int) -> int:
    """The customer's id, if they exist and are in scope."""
    q = sa.select(customers.c.id).where(customers.c.id == customer_id)
    clause = scope.customer_clause(customers.c.id)
    if clause is not None:
        q = q.where(clause)
    if conn.execute(q).first() is None:
        raise NotFound(f"customer {customer_id} not found")
    return customer_id


def access_merge(conn: Connection, scope: Scope, merge_id: int) -> int:
    """A merge is in scope when the customer it merged into is."""
    target = conn.execute(
        sa.select(customer_merges.c.target_id).where(customer_merges.c.id == merge_id)
    ).scalar()
    if target is None:
        raise NotFound(f"merge {merge_id} not found")
    try:
        access_customer(conn, scope, target)
    except NotFound:
        raise NotFound(f"merge {merge_id} not found") from None
    return merge_id


def access_task(conn: Connection, scope: Scope, task_id: int) -> int:
    """A task is in scope when its conversation is."""
    conversation_id = conn.execute(
        sa.select(tasks.c.conversation_id).where(tasks.c.id == task_id)
    ).scalar()
    if conversation_id is None:
        raise NotFound(f"task {task_id} not found")
    try:
        access_conversation(conn, scope, conversation_id)
    except NotFound:
        raise NotFound(f"task {task_id} not found") from None
    return task_id
