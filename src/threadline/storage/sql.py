"""Hot-path SQL: statements written once as text and run on the driver's cursor.

Building a SQLAlchemy Core statement costs ~80 µs per execution here, and even
a prebuilt one ~20 µs (cache key, execution context, result proxy), against
~5 µs for the same statement on the sqlite3 cursor. The inbound path runs
about nine statements per message inside the group-commit writer, so that
difference is most of the ceiling (bench/ingest.py). Everything else keeps
using Core; only statements on the per-message path live here.

Statements use ``:name`` parameters and portable SQL; ``Statement`` rewrites
them for psycopg's ``%(name)s`` style once per dialect. Values pass through
``db_time`` / ``db_json`` / ``db_bool`` (and come back through ``tables.as_utc``),
which match what SQLAlchemy's column types store (and JSON comes back through
``json_value``), so rows written here and rows written through Core read the same.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from psycopg.types.json import Jsonb

from threadline.storage.db import Tx

__all__ = ["Statement", "db_bool", "db_json", "db_time", "json_value", "run"]

_PARAM = re.compile(r"(?<![:\w]):(\w+)")


class Statement:
    def __init__(self, text: str) -> None:
        self.text = " ".join(text.split())
        self._pg = _PARAM.sub(r"%(\1)s", self.text.replace("%", "%%"))

    def for_dialect(self, dialect: str) -> str:
        return self._pg if dialect == "postgresql" else self.text


def run(tx: Tx, stmt: Statement, params: Mapping[str, Any]) -> Any:
    """Execute on the transaction's own connection; returns the DBAPI cursor."""
    driver = tx.conn.connection.driver_connection
    assert driver is not None
    return driver.execute(stmt.for_dialect(tx.conn.dialect.name), params)


def db_time(tx: Tx, value: datetime | None) -> Any:
    """As UTCDateTime stores it: naive UTC text on SQLite, aware on PostgreSQL."""
    if value is None:
        return None
    if tx.conn.dialect.name != "sqlite":
        return value
    if value is tx.now:  # most timestamps of an action are its own time: format it once
        if tx.now_text is None:
            tx.now_text = _sqlite_time(value)
        return tx.now_text
    return _sqlite_time(value)


def _sqlite_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def db_json(tx: Tx, value: Any) -> Any:
    if tx.conn.dialect.name == "postgresql":
        return Jsonb(value)
    return orjson.dumps(value).decode()


def json_value(raw: Any) -> Any:
    """A JSON column as the cursor hands it back: text on sqlite3, already a
    Python value on psycopg."""
    return orjson.loads(raw) if isinstance(raw, str | bytes) else raw


def db_bool(tx: Tx, value: bool) -> Any:
    return value if tx.conn.dialect.name == "postgresql" else int(value)
