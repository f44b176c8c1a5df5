"""The data dir and the SQLite file hold customers' mail and the instance secret:
create them readable by our own user only (0700 and 0600)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

from threadline.storage.db import sync_url

__all__ = ["make_private", "sqlite_path"]


def sqlite_path(database_url: str) -> Path | None:
    """The database file of a sqlite URL, or None (PostgreSQL, or in memory)."""
    url = make_url(sync_url(database_url))
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def make_private(data_dir: Path, database_url: str) -> None:
    """Create the data dir 0700 and the SQLite file 0600 before anything else
    writes them (SQLite gives its -wal and -shm files the database's mode)."""
    if not data_dir.exists():
        data_dir.mkdir(mode=0o700, parents=True)
    path = sqlite_path(database_url)
    if path is None:
        return
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    # An existing file keeps the mode it was made with: tighten it too.
    path.chmod(0o600)
