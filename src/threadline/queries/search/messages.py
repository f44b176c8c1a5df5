"""Full-text search over message text: FTS5 on SQLite, tsvector on PostgreSQL.

Results come newest first. A help desk search is "where did we talk about
this", and ordering by rank over a million rows would cost a full scan of
every match; by id, both engines stop after one page.

Every word of the query must appear, on both engines; operators and punctuation
typed by a user are words or nothing, never syntax.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.queries.scope import Scope
from threadline.storage.fts import PG_SEARCH_CONFIG
from threadline.storage.tables import conversations, messages

__all__ = ["search_messages"]

_WORD = re.compile(r"\w+", re.UNICODE)
# The status filter reads the message's conversation under its own name: the page
# query joins conversations, and the scope's filter has an alias of its own.
_BY_STATUS = conversations.alias("status_conversations")
_Query = sa.Select[*tuple[Any, ...]]
_Row = sa.Row[*tuple[Any, ...]]
_FTS = sa.table("message_fts", sa.column("rowid"))
_MESSAGE_COLUMNS = (
    messages.c.id,
    messages.c.conversation_id,
    messages.c.customer_id,
    messages.c.channel,
    messages.c.direction,
    messages.c.text,
    messages.c.created_at,
)

# Measured with SQLite 3.40 over 1M messages: probing FTS5 for one rowid costs ~12 µs,
# stepping to the next match and reading its message ~0.6 µs. So a customer's messages
# are worth walking only when the words match 20 times as many messages as they wrote.
_PROBE_COST = 20
# Counting a customer's messages past this tells nothing more worth its time.
_COUNT_CAP = 5_000
# PostgreSQL walks this many newest messages in order: ~0.5 µs a row, 3 ms at most;
# a word in more than 0.4% of them fills a page on the way.
_RECENT = 5_000


def _fts5_query(text: str) -> str:
    """Every word must appear; quoting each one keeps FTS5 syntax out of user input."""
    words = _WORD.findall(text)
    return " ".join(f'"{w}"' for w in words[:16])


def search_messages(
    conn: Connection,
    text: str,
    *,
    scope: Scope,
    customer_id: int | None = None,
    channel: str | None = None,
    status: str | None = None,
    limit: int = 20,
    before: int | None = None,
) -> list[dict[str, Any]]:
    """Newest first; ``status`` is the status of the message's conversation."""
    if not _WORD.search(text):
        return []
    filters = []
    if customer_id is not None:
        filters.append(messages.c.customer_id == customer_id)
    if channel is not None:
        filters.append(messages.c.channel == channel)
    if status is not None:
        # A primary-key probe per message read, as for the scope: the walks stay walks.
        filters.append(
            sa.exists(
                sa.select(sa.literal(1))
                .where(_BY_STATUS.c.id == messages.c.conversation_id, _BY_STATUS.c.status == status)
                .correlate_except(_BY_STATUS)
            )
        )
    if (in_scope := scope.conversation_ids_clause(messages.c.conversation_id)) is not None:
        filters.append(in_scope)
    if conn.dialect.name == "sqlite":
        rows = _sqlite(conn, filters, _fts5_query(text), customer_id, before, limit)
    else:
        if before is not None:
            filters.append(messages.c.id < before)
        rows = _postgres(conn, filters, text, limit)
    return [
        {
            "message_id": r.id,
            "conversation_id": r.conversation_id,
            "customer_id": r.customer_id,
            "channel": r.channel,
            "direction": r.direction,
            "snippet": _snippet(r.text, text),
            "created_at": r.created_at,
            "subject": r.subject,
            "status": r.status,
        }
        for r in rows
    ]


def _sqlite(
    conn: Connection,
    filters: list[sa.ColumnElement[bool]],
    fts_q: str,
    customer_id: int | None,
    before: int | None,
    limit: int,
) -> Sequence[_Row]:
    """FTS5 drives in rowid order and stops after one page, unless one customer's
    messages are the shorter walk; then each is probed in FTS5 by rowid.

    ``messages.id IN (SELECT rowid ... MATCH)`` would read every match first
    (243k for "order" over 1M messages) before the first row comes out.
    """
    match = sa.text("message_fts MATCH :q").bindparams(q=fts_q)
    if customer_id is not None and _walk_customer(conn, match, customer_id, before):
        probe = sa.select(_FTS.c.rowid).where(match, _FTS.c.rowid == messages.c.id)
        q = _page(messages).where(sa.exists(probe)).order_by(messages.c.id.desc())
        if before is not None:
            q = q.where(messages.c.id < before)
    else:
        q = (
            _page(messages, _FTS.join(messages, messages.c.id == _FTS.c.rowid))
            .where(match)
            .order_by(_FTS.c.rowid.desc())
        )
        if before is not None:
            q = q.where(_FTS.c.rowid < before)
    return conn.execute(q.where(*filters).limit(limit)).all()


def _walk_customer(
    conn: Connection, match: sa.TextClause, customer_id: int, before: int | None
) -> bool:
    """Both walks stop after a page; each costs its length over the overlap, so the
    shorter one wins. The counts stop as soon as the answer is known."""
    mine = sa.select(sa.literal(1)).where(messages.c.customer_id == customer_id)
    hits = sa.select(sa.literal(1)).select_from(_FTS).where(match)
    if before is not None:
        mine = mine.where(messages.c.id < before)
        hits = hits.where(_FTS.c.rowid < before)
    written = conn.execute(_count(mine.limit(_COUNT_CAP))).scalar_one()
    enough = written * _PROBE_COST
    return bool(conn.execute(_count(hits.limit(enough))).scalar_one() >= enough)


def _postgres(
    conn: Connection, filters: list[sa.ColumnElement[bool]], text: str, limit: int
) -> Sequence[_Row]:
    """The newest messages walked in id order, then, if they hold less than a page,
    every match read from the GIN index and sorted.

    The planner multiplies the frequencies of the words; left to choose, it walks
    pk_messages through all 1M rows for words that never meet ("parcel damaged",
    380 ms) and reads the whole index for words that always do ("password reset",
    60k matches). Here the walk is bounded, and the index is read only for words
    too rare to fill a page from the newest messages.
    """
    # psycopg prepares a statement from its 5th run on, and the server may then reuse
    # a generic plan that cannot see the words and guesses each matches 0.5% of rows
    # ("order tubaipir": 30-55 ms instead of 4). LOCAL: it ends with this transaction.
    conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    # plainto_tsquery, not websearch_to_tsquery: "or" and "-" are words here, as on
    # SQLite, and the server's own parser splits the query as it split the text.
    match = "{}.search_vector @@ plainto_tsquery('" + PG_SEARCH_CONFIG + "', :q)"
    # LIMIT keeps the match out of the subquery, so the index cannot take over.
    newest = (
        sa.select(*_MESSAGE_COLUMNS, sa.literal_column("messages.search_vector"))
        .where(*filters)
        .order_by(messages.c.id.desc())
        .limit(_RECENT)
        .subquery("newest")
    )
    walk = (
        _page(newest)
        .where(sa.text(match.format("newest")).bindparams(q=text))
        .order_by(newest.c.id.desc())
    )
    rows = conn.execute(walk.limit(limit)).all()
    if len(rows) == limit:
        return rows
    # id + 0 has no index to come in order from, so the planner reads the matches
    # from the GIN index (or the customer's messages) and sorts them.
    everything = (
        _page(messages)
        .where(sa.text(match.format("messages")).bindparams(q=text), *filters)
        .order_by((messages.c.id + 0).desc())
    )
    return conn.execute(everything.limit(limit)).all()


def _page(source: sa.TableClause | sa.Subquery, joined: sa.FromClause | None = None) -> _Query:
    """The message columns of ``source`` (read through ``joined``) and their conversation."""
    rows = (source if joined is None else joined).join(
        conversations, conversations.c.id == source.c.conversation_id
    )
    return sa.select(
        *(source.c[c.name] for c in _MESSAGE_COLUMNS),
        conversations.c.subject,
        conversations.c.status,
    ).select_from(rows)


def _count(q: sa.Select[int]) -> sa.Select[int]:
    return sa.select(sa.func.count()).select_from(q.subquery())


def _snippet(body: str, query: str, width: int = 160) -> str:
    """The text around the first matching word, computed here so both databases agree."""
    lowered = body.lower()
    pos = min((i for w in _WORD.findall(query.lower()) if (i := lowered.find(w)) >= 0), default=0)
    start = max(pos - width // 3, 0)
    piece = body[start : start + width].replace("\n", " ")
    return ("…" if start else "") + piece + ("…" if start + width < len(body) else "")
