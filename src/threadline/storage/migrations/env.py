"""Alembic environment: run by threadline.storage.migrate, never by hand-edited ini files."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from threadline.storage.tables import metadata

config = context.config


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite can only ALTER by copying the table (STACK.md gotcha 4).
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


# threadline.storage.migrate always hands us an open connection inside a
# transaction; it commits, so this must not close it.
run_migrations(config.attributes["connection"])
