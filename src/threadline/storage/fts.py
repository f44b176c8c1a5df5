"""Full-text search over message text: FTS5 on SQLite, tsvector + GIN on PostgreSQL.

The DDL lives here so the migration that creates it and the test that checks it
survive later migrations (STACK.md gotcha 4: batch mode drops triggers) share it.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["PG_SEARCH_CONFIG", "SQLITE_TRIGGERS", "create_fts", "drop_fts"]

SQLITE_TRIGGERS = ("messages_fts_ai", "messages_fts_ad", "messages_fts_au")

# The text search configuration both the generated column and the queries name.
PG_SEARCH_CONFIG = "threadline_search"

_SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE message_fts USING fts5("
    "text, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages BEGIN "
    "INSERT INTO message_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN "
    "INSERT INTO message_fts(message_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER messages_fts_au AFTER UPDATE OF text ON messages BEGIN "
    "INSERT INTO message_fts(message_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO message_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO message_fts(message_fts) VALUES ('rebuild')",
)
_SQLITE_DROP = (
    *(f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS),
    "DROP TABLE IF EXISTS message_fts",
)
# 'simple' underneath rather than a language: support mail arrives in every language,
# and FTS5's unicode61 does not stem either, so both databases find the same words.
# unaccent in front does what FTS5's remove_diacritics does: "cafe" finds "café".
# unaccent is a trusted contrib extension (PostgreSQL 13+), shipped with the server
# packages and the official image; the database owner may create it.
#
# Statistics: with the default target the planner knows only ~1,000 lexemes and
# guesses any other word is common, so it walks pk_messages backwards through the
# whole table waiting for 20 matches (366 ms for a rare word over 1M messages);
# knowing ~100,000 lexemes it reads the GIN index instead (1.4 ms).
_PG_CREATE = (
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    f"CREATE TEXT SEARCH CONFIGURATION {PG_SEARCH_CONFIG} (COPY = simple)",
    f"ALTER TEXT SEARCH CONFIGURATION {PG_SEARCH_CONFIG} "
    "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple",
    "ALTER TABLE messages ADD COLUMN search_vector tsvector "
    f"GENERATED ALWAYS AS (to_tsvector('{PG_SEARCH_CONFIG}', text)) STORED",
    "ALTER TABLE messages ALTER COLUMN search_vector SET STATISTICS 10000",
    "CREATE INDEX ix_messages_search_vector ON messages USING gin (search_vector)",
)
# The extension stays: other objects may use it, and it costs nothing idle.
_PG_DROP = (
    "DROP INDEX IF EXISTS ix_messages_search_vector",
    "ALTER TABLE messages DROP COLUMN IF EXISTS search_vector",
    f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {PG_SEARCH_CONFIG}",
)


def create_fts(dialect: str, execute: Callable[[str], object]) -> None:
    for stmt in _SQLITE_CREATE if dialect == "sqlite" else _PG_CREATE:
        execute(stmt)


def drop_fts(dialect: str, execute: Callable[[str], object]) -> None:
    for stmt in _SQLITE_DROP if dialect == "sqlite" else _PG_DROP:
        execute(stmt)
