"""SQLite's WAL checkpoints, moved off the writer's path.

By default SQLite checkpoints inside the COMMIT that takes the WAL past 1,000
pages: the writer copies the WAL into the database file and syncs it before its
callers hear back, and everyone queued behind it waits too. One 36 MiB email
made that commit take 150 ms instead of 80 (the API's p99 went from 20 to over
300 ms while such mail arrived), and every 4 MB of small messages paid a smaller
stall of the same kind.

So the server's writer connection turns the automatic checkpoint off and this
thread, on a connection of its own, runs a PASSIVE checkpoint every few tenths
of a second. A passive checkpoint never takes the write lock: the writer goes on
appending while the pages are copied.

A passive checkpoint cannot rewind the WAL while the writer keeps adding to it,
so under sustained writes the file could grow without end. Past ``restart_pages``
the thread asks for a RESTART instead, which waits for the write lock (the one
batch in progress), copies what is left and lets the next write start the WAL
from its beginning; ``journal_size_limit`` then gives the disk back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import structlog

__all__ = ["WRITER_PRAGMAS", "Checkpointer"]

log = structlog.get_logger(__name__)

# Run on the writer thread's connection when the checkpointer owns checkpoints.
WRITER_PRAGMAS = ("wal_autocheckpoint=0", f"journal_size_limit={64 * 1024 * 1024}")


class Checkpointer:
    """A daemon thread that checkpoints the WAL every ``interval`` seconds."""

    def __init__(
        self,
        connect: Callable[[], Any],
        *,
        interval: float = 0.25,
        restart_pages: int = 16_384,  # 64 MiB of 4 KiB pages
    ) -> None:
        # A DB-API connection in autocommit mode, with a short busy timeout: while a
        # RESTART waits for the write lock it holds off new writes, so it gives up
        # soon and tries again on a later pass rather than stall the writer.
        self._connect = connect
        self.interval = interval
        self.restart_pages = restart_pages
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0
        self.restarts = 0

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="db-checkpoint", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(timeout=10)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        conn = None
        while not self._stop.wait(self.interval):
            try:
                if conn is None:
                    conn = self._connect()
                self.checkpoint(conn)
            except Exception:
                # A checkpoint that fails (the disk, a locked file) is tried again
                # on the next pass with a new connection; the WAL only grows meanwhile.
                log.exception("db.checkpoint_failed")
                _close(conn)
                conn = None
        _close(conn)

    def checkpoint(self, conn: Any) -> tuple[int, int]:
        """One pass: PASSIVE, or RESTART when the WAL has grown past the bound.
        Returns (pages in the WAL, pages copied)."""
        _busy, pages, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.passes += 1
        if pages >= self.restart_pages:
            _busy, pages, copied = conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
            self.restarts += 1
        return int(pages), int(copied)


def _close(conn: Any) -> None:
    if conn is not None:
        try:
            conn.close()
        except Exception:
            log.warning("db.checkpoint_close_failed", exc_info=True)
