"""Parsing too heavy for the server's own process.

A worker thread does not help a large payload: parsing holds the GIL, so while a
36 MiB email was parsed in a thread the event loop waited its turn, and /healthz
and the API with it, for seconds. A process of its own parses it instead, at a
low CPU priority, and hands back the result. Each process parses one payload and
exits (``max_tasks_per_child=1``), so the memory a parse needed is returned to the
system when it is done rather than kept by the server.
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
    """Runs a parser in a spawned process; at most ``workers`` at once."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                # spawn, not fork: the server has threads (writers, the loop's pool)
                # whose locks a forked child would inherit held.
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_lower_priority,
                max_tasks_per_child=1,
            )
        return self._pool

    async def parse(
        self, parser: Parser, inbox: Inbox, body: bytes, context: Mapping[str, Any]
    ) -> ParseResult | list[ParseResult]:
        loop = asyncio.get_running_loop()
        try:
            result: ParseResult | list[ParseResult] = await loop.run_in_executor(
                self._executor(), _run, parser, inbox, body, dict(context)
            )
        except BrokenProcessPool as exc:
            # The parse took its process down (killed for memory, say): that payload
            # cannot be used, and the next one gets a fresh pool.
            self._pool = None
            raise PayloadError(f"the parser's process died on this payload: {exc}") from exc
        return result

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _run(
    parser: Parser, inbox: Inbox, body: bytes, context: Mapping[str, Any]
) -> ParseResult | list[ParseResult]:
    parsed = parser(inbox, body, context)
    # A generator would not cross back to the server; a list does.
    return list(parsed) if isinstance(parsed, Sequence) else parsed
