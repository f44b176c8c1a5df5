"""Parsing too heavy for the server's own process.

A worker thread does not help a large payload: parsing holds the GIL, so while a
36 MiB email was parsed in a thread the event loop waited its turn, and /healthz
and the API with it, for seconds. A process of its own parses it instead, at a
low CPU priority, and hands back the result. Each process parses one payload and
exits, so the memory a parse needed is returned to the system when it is done
rather than kept by the server.

Neither the payload nor its files cross the pipe: the payload goes by a temporary
file the worker reads, and the files it finds go straight into the content store
(with the server's own directory), so what comes back is the message without its
bytes. Pickled, a 36 MiB email and its 27 MB attachment were two more copies in
the server while they were sent and received.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import multiprocessing
import os
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import anyio.to_thread

from threadline.core.model import (
    InboundMessage,
    ParseResult,
    PayloadError,
    StoredFile,
)
from threadline.ports import Inbox, Parser
from threadline.storage.files import put_file

__all__ = ["ProcessParser"]

_NICE = 10  # CPU left over from the web, the writer and the jobs


def _lower_priority() -> None:
    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(_NICE)


class ProcessParser:
    """Runs a parser in a spawned process; at most ``workers`` at once.

    Each parse gets a pool of its own, shut down when its answer is in: a pool
    keeps a reference to the last result it handed over (the manager thread's
    loop variable), which for a 36 MiB email was ~30 MB held until the next one.
    A parse spawns its own process anyway (one payload per process), so a pool
    per parse costs only its manager thread.
    """

    def __init__(self, workers: int = 1, *, attachment_dir: Path | None = None) -> None:
        self.workers = workers
        self.attachment_dir = attachment_dir  # None: files go back to be kept in the database
        self._slots: asyncio.Semaphore | None = None
        self._pools: set[ProcessPoolExecutor] = set()

    async def parse(
        self,
        parser: Parser,
        inbox: Inbox,
        body: bytes,
        context: Mapping[str, Any],
        *,
        path: Path | None = None,
    ) -> ParseResult | list[ParseResult]:
        """``path``: a file that already holds ``body`` (the file store's copy), read
        by the worker instead of a temporary one written here."""
        if self._slots is None:  # made on the loop that first needs it
            self._slots = asyncio.Semaphore(self.workers)
        async with self._slots:
            spool = path if path is not None else await anyio.to_thread.run_sync(_spool, body)
            pool = ProcessPoolExecutor(
                max_workers=1,
                # spawn, not fork: the server has threads (writers, the loop's pool)
                # whose locks a forked child would inherit held.
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_lower_priority,
            )
            self._pools.add(pool)
            try:
                loop = asyncio.get_running_loop()
                result: ParseResult | list[ParseResult] = await loop.run_in_executor(
                    pool, _run, parser, inbox, str(spool), dict(context), self.attachment_dir
                )
                # Still holding the slot: the next parse's process starts once this
                # one has exited, so two never hold a large payload's memory at once.
                await anyio.to_thread.run_sync(functools.partial(pool.shutdown, wait=True))
            except BrokenProcessPool as exc:
                # The parse took its process down (killed for memory, say): that
                # payload cannot be used.
                raise PayloadError(f"the parser's process died on this payload: {exc}") from exc
            finally:
                self._pools.discard(pool)
                pool.shutdown(wait=False, cancel_futures=True)
                if spool is not path:
                    spool.unlink(missing_ok=True)
        return result

    def close(self) -> None:
        for pool in list(self._pools):
            pool.shutdown(wait=False, cancel_futures=True)
        self._pools.clear()


def _spool(body: bytes) -> Path:
    fd, name = tempfile.mkstemp(prefix="threadline-parse-")
    with os.fdopen(fd, "wb") as f:
        f.write(body)
    return Path(name)


def _run(
    parser: Parser,
    inbox: Inbox,
    spool: str,
    context: Mapping[str, Any],
    attachment_dir: Path | None,
) -> ParseResult | list[ParseResult]:
    parsed = parser(inbox, Path(spool).read_bytes(), context)
    # A generator would not cross back to the server; a list does.
    if isinstance(parsed, Sequence):
        return [_stored(r, attachment_dir) for r in parsed]
    return _stored(parsed, attachment_dir)


def _stored(result: ParseResult, root: Path | None) -> ParseResult:
    """The message with its files put in the store, their bytes left behind."""
    if root is None or not isinstance(result, InboundMessage) or not result.attachments:
        return result
    files = tuple(
        dataclasses.replace(a, data=b"", stored=StoredFile(put_file(root, a.data), a.size))
        for a in result.attachments
    )
    return dataclasses.replace(result, attachments=files)
