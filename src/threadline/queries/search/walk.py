"""Paging through rows the database narrows and Python decides on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

__all__ = ["decided_page"]

_Row = sa.Row[Any]
_FIRST_BATCH = 16
_MAX_BATCH = 1_000


def decided_page(
    conn: Connection,
    query: sa.Select[Any],
    key: sa.ColumnElement[int],
    *,
    keep: Callable[[_Row], bool],
    before: int | None,
    limit: int,
) -> list[_Row]:
    """The first ``limit`` rows of ``query``, largest ``key`` first and below
    ``before``, that ``keep`` accepts. ``query`` selects ``key`` as ``id``.

    Batches grow as rows are turned down, and each resumes after the last row
    read, so a row is read at most once: the worst case is one pass over what
    the database's filter lets through, never a loop.
    """
    out: list[_Row] = []
    batch = max(_FIRST_BATCH, 2 * limit)
    while True:
        page = query if before is None else query.where(key < before)
        rows = conn.execute(page.order_by(key.desc()).limit(batch)).all()
        for row in rows:
            if keep(row):
                out.append(row)
                if len(out) == limit:
                    return out
        if len(rows) < batch:
            return out
        before = rows[-1].id
        batch = min(2 * batch, _MAX_BATCH)
