"""The triage settings document: one versioned row per save in ``triage_lexicons``.

The newest row is in force. It holds the lexicon (actions/lexicon.py) and the
intake checklist (actions/intake.py, under ``intake``); a save of either carries
the other over. Each process keeps what it compiled from the version it last saw
and asks the database only for the newest id (one primary-key lookup) before each
use, so a save holds on the next use in every process, and compiling happens once
per version.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.storage.tables import triage_lexicons

__all__ = ["NEWEST", "NewestPart", "newest_settings"]

T = TypeVar("T")
NEWEST = sa.select(sa.func.max(triage_lexicons.c.id))
_DATA = sa.select(triage_lexicons.c.data).where(triage_lexicons.c.id == sa.bindparam("id"))


def newest_settings(conn: Connection) -> dict[str, Any]:
    """The newest stored triage settings document ({} when none is stored)."""
    newest = conn.execute(NEWEST).scalar()
    if newest is None:
        return {}
    data = conn.execute(_DATA, {"id": newest}).scalar()
    return dict(data) if isinstance(data, dict) else {}


class NewestPart(Generic[T]):
    """One part of the newest stored document, compiled once per version.

    ``compile`` turns the stored document into the part, or None when the document
    holds none (the default is in force). It may raise ValueError: a part is stored
    only after its checks accepted it, so a later, stricter version of the checks
    must not stop triage or the page that uses it: the default holds.
    """

    def __init__(self, compile: Callable[[object], T | None]) -> None:
        self._compile = compile
        self._version: int | None = None
        self._value: T | None = None
        self._lock = threading.Lock()

    def current(self, conn: Connection, default: T) -> T:
        return self.of(conn.execute(NEWEST).scalar(), conn, default)

    def of(self, newest: int | None, conn: Connection, default: T) -> T:
        """The part of version ``newest`` (read by the caller), from the cache when
        it is the version last compiled."""
        if newest is None:
            return default
        with self._lock:
            if newest == self._version and self._value is not None:
                return self._value
        data = conn.execute(_DATA, {"id": newest}).scalar()
        try:
            value = self._compile(data)
        except ValueError:
            value = None
        found = default if value is None else value
        with self._lock:
            self._version, self._value = newest, found
        return found
