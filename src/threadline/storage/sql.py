"""Hot-path SQL: statements written once as text and run on the driver's cursor.

Building a SQLAlchemy Core statement costs ~80 µs per execution here, and even
a prebuilt one ~20 µs (cache key, execution context, result proxy), against
~5 µs for the same statement on the sqlite3 cursor. The inbound path runs
about nine statements per message inside the group-commit writer, so that
difference is most of the ceiling (bench/ingest.py). Everything else keeps
using Core; only statements on the per-message path live here, on the write
side (``run``, in the writer's transaction) and the read side (``fetch``, on a
read connection: the widget's reads on the event loop, per message and socket).

Statements use ``:name`` parameters and portable SQL; ``Statement`` rewrites
them for psycopg's ``%(name)s`` style once per dialect. Values pass through
``db_time`` / ``db_json`` / ``db_bool`` (and come back through ``tables.as_utc``),
which match what SQLAlchemy's column types store, so rows written here and rows
written through Core read the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from psycopg.types.json import Jsonb
from sqlalchemy.engine import Connection, Dialect

from threadline.storage.db import Tx

__all__ = [
    "PreparedSelect",
    "Statement",
    "db_bool",
    "db_json",
    "db_time",
    "fetch",
    "json_value",
    "run",
]

_PARAM = re.compile(r"(?<![:\w]):(\w+)")


class Statement:
    def __init__(self, text: str) -> None:
        self.text = " ".join(text.split())
        self._pg = _PARAM.sub(r"%(\1)s", self.text.replace("%", "%%"))

    def for_dialect(self, dialect: str) -> str:
        return self._pg if dialect == "postgresql" else self.text


def run(tx: Tx, stmt: Statement, params: Mapping[str, Any]) -> Any:
    """Execute on the transaction's own connection; returns the DBAPI cursor."""
    return _execute(tx.conn, stmt, params)


def fetch(conn: Connection, stmt: Statement, params: Mapping[str, Any]) -> list[Any]:
    """A read on a read connection's driver connection: every row, as the driver
    gives it (values back through ``tables.as_utc`` and ``json_value``).

    All rows are fetched: on SQLite an unfinished cursor would keep its snapshot
    for the connection's next read. Outside a Core transaction (Database.read_small
    on SQLite begins none for these), each statement is its own snapshot, as every
    statement is on PostgreSQL (READ COMMITTED).
    """
    return list(_execute(conn, stmt, params).fetchall())


def _execute(conn: Connection, stmt: Statement, params: Mapping[str, Any]) -> Any:
    driver = conn.connection.driver_connection
    assert driver is not None
    return driver.execute(stmt.for_dialect(conn.dialect.name), params)


@dataclass(frozen=True, slots=True)
class _Compiled:
    text: str
    order: tuple[str, ...] | None  # a positional driver's (sqlite3) parameters, in order
    defaults: dict[str, Any]  # the statement's own values, such as a subquery's LIMIT 1
    convert: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column, Core's result processor)


class PreparedSelect:
    """A Core select run like a Statement: compiled once per dialect, executed on
    the driver's cursor, and its values converted by its columns' types as Core
    converts them.

    For a hot read whose select list a Core path shares, so that both keep one
    definition (queries/inbox_rows.py: the live push's one row, ~130 µs through
    Core for ~15 µs on the cursor). Parameters go to the driver as given, so they
    must need no conversion (ids, text); an expanding IN, rendered anew on every
    execution, stays in Core.
    """

    def __init__(self, select: sa.Select[Any]) -> None:
        self.select = select
        self.keys = tuple(select.selected_columns.keys())
        self._compiled: dict[str, _Compiled] = {}

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[list[Any]]:
        compiled = self._compiled.get(conn.dialect.name) or self._compile(conn.dialect)
        values = {**compiled.defaults, **params}
        order = compiled.order
        driver = conn.connection.driver_connection
        assert driver is not None
        found = driver.execute(
            compiled.text, values if order is None else [values[k] for k in order]
        ).fetchall()  # all of it: see fetch
        rows = [list(r) for r in found]
        for i, convert in compiled.convert:
            for row in rows:
                row[i] = convert(row[i])
        return rows

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.select.compile(dialect=dialect)
        if compiled.post_compile_params:
            raise ValueError("a parameter rendered per execution (an expanding IN): use Core")
        defaults = {}
        for key, value in compiled.params.items():
            bind = compiled.binds[key]
            if bind.type.dialect_impl(dialect).bind_processor(dialect) is not None:
                raise TypeError(f"parameter {key!r} needs Core's conversion")
            if not bind.required:
                defaults[key] = value
        convert = []
        for i, column in enumerate(self.select.selected_columns):
            processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if processor is not None:
                convert.append((i, processor))
        order = tuple(compiled.positiontup or ()) if compiled.positional else None
        ready = _Compiled(compiled.string, order, defaults, tuple(convert))
        self._compiled[dialect.name] = ready
        return ready


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


def json_value(conn: Connection, value: Any) -> Any:
    """A JSON column as the driver read it, decoded as Core decodes it: SQLite
    gives the stored text, psycopg the value itself (JSONB)."""
    if value is None or conn.dialect.name == "postgresql":
        return value
    return orjson.loads(value)


def db_bool(tx: Tx, value: bool) -> Any:
    return value if tx.conn.dialect.name == "postgresql" else int(value)
