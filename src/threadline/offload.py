"""Parsing too heavy for the server's own process.

A worker thread does not help a large payload: parsing holds the GIL, so while a
36 MiB email was parsed in a thread the event loop waited its turn, and /healthz
and the API with it, for seconds. A process of its own parses it instead, at a
low CPU priority, and hands back the result. Each process parses one payload and
exits, so the memory a parse needed is returned to the system when it is done
rather than kept by the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from threadline.core.model import ParseResult, PayloadError
from threadline.ports import Inbox, Parser

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

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers
        self._slots: asyncio.Semaphore | None = None
        self._pools: set[ProcessPoolExecutor] = set()

    async def parse(
        self, parser: Parser, inbox: Inbox, body: bytes, context: Mapping[str, Any]
    ) -> ParseResult | list[ParseResult]:
        if self._slots is None:  # made on the loop that first needs it
            self._slots = asyncio.Semaphore(self.workers)
        async with self._slots:
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
                    pool, _run, parser, inbox, body, dict(context)
                )
            except BrokenProcessPool as exc:
                # The parse took its process down (killed for memory, say): that
                # payload cannot be used.
                raise PayloadError(f"the parser's process died on this payload: {exc}") from exc
            finally:
                self._pools.discard(pool)
                pool.shutdown(wait=False, cancel_futures=True)
        return result

    def close(self) -> None:
        for pool in list(self._pools):
            pool.shutdown(wait=False, cancel_futures=True)
        self._pools.clear()


def _run(
    parser: Parser, inbox: Inbox, body: bytes, context: Mapping[str, Any]
) -> ParseResult | list[ParseResult]:
    parsed = parser(inbox, body, context)
    # A generator would not cross back to the server; a list does.
    return list(parsed) if isinstance(parsed, Sequence) else parsed
