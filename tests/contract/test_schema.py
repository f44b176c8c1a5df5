"""The migrations build exactly storage/tables/, with search, on both databases."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from threadline.storage.db import sync_url
from threadline.storage.fts import SQLITE_TRIGGERS
from threadline.storage.migrate import downgrade, upgrade
from threadline.storage.tables import metadata


def test_migrations_match_the_tables(database_url: str) -> None:
    engine = sa.create_engine(sync_url(database_url))
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), metadata
        )
    engine.dispose()
    # Search objects are ours on purpose (storage/fts.py, the trigram indexes of
    # migration 0007), not part of the table metadata.
    ours = ("search_vector", "message_fts", "_trgm")
    diff = [d for d in diff if not any(name in repr(d) for name in ours)]
    assert diff == []


def test_fts_survives_a_downgrade_and_upgrade(database_url: str) -> None:
    downgrade(database_url, "base")
    upgrade(database_url)
    engine = sa.create_engine(sync_url(database_url))
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            names = set(
                conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type='trigger'"
                ).scalars()
            )
            assert set(SQLITE_TRIGGERS) <= names
        else:
            col = conn.exec_driver_sql(
                "SELECT 1 FROM information_schema.columns WHERE table_name='messages' AND column_name='search_vector'"
            ).scalar()
            assert col == 1
    engine.dispose()
