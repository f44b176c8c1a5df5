"""argon2id for agents' passwords, with a bound on what it may cost at once.

Each hash or check holds ``memory_kib`` of RAM for its whole run, so 40
parallel sign-ins once took a server to 3 GB. At most ``concurrency`` run at
once, in threads; at most ``queue`` more wait, and anyone beyond is told to
come back (``Busy``) at once, without costing memory.

The default cost is OWASP's argon2id profile (19 MiB, 2 passes, 1 lane):
docs/decisions/0005-password-hashing.md says why, and what it traded. A hash
made with other parameters still checks, and is made again with these at the
next good sign-in (``needs_rehash``).

The checks run on threads of their own at a low CPU priority: argon2 keeps every
core busy for its whole run (and releases the GIL while it does), so a flood of
sign-ins would otherwise take the CPU that ingest and /healthz need.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from threadline.settings import Settings

__all__ = ["Busy", "Passwords"]

T = TypeVar("T")


class Busy(Exception):
    """Too many password checks are already running or waiting."""


class Passwords:
    def __init__(
        self,
        *,
        time_cost: int = 2,
        memory_kib: int = 19456,
        parallelism: int = 1,
        concurrency: int = 2,
        queue: int = 16,
    ) -> None:
        self.hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        self.concurrency = concurrency
        self.queue = queue
        self._limiter: anyio.CapacityLimiter | None = None
        self._pool = ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="password", initializer=_lower_priority
        )
        self._waiting = 0
        self._dummy: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Passwords:
        return cls(
            time_cost=settings.password_time_cost,
            memory_kib=settings.password_memory_kib,
            parallelism=settings.password_parallelism,
            concurrency=settings.password_hash_concurrency,
            queue=settings.password_hash_queue,
        )

    def hash_sync(self, password: str) -> str:
        """For the CLI, which runs one at a time."""
        return self.hasher.hash(password)

    async def hash(self, password: str) -> str:
        return await self._run(self.hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches. With no stored hash (an unknown email, a
        token-only user) it checks against a dummy hash made with the same
        parameters, so the answer costs the same and tells nobody who has an account."""
        if stored_hash is None:
            if self._dummy is None:
                self._dummy = await self._run(self.hasher.hash, "threadline: no such account")
            await self._run(self._check, self._dummy, password)
            return False
        return await self._run(self._check, stored_hash, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        """Was ``stored_hash`` made with other parameters than ours (an older default,
        or settings since changed)?"""
        try:
            return self.hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return False

    def saturated(self) -> bool:
        """Would a check asked for now be refused (``Busy``)? Lets a caller refuse
        before spending anything else on the request."""
        limiter = self._limiter
        return (
            limiter is not None
            and limiter.borrowed_tokens >= self.concurrency
            and self._waiting >= self.queue
        )

    def _check(self, stored_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def _run(self, fn: Callable[[str, str], T] | Callable[[str], T], *args: str) -> T:
        if self._limiter is None:  # made on the event loop that first needs it
            self._limiter = anyio.CapacityLimiter(self.concurrency)
        if self.saturated():
            raise Busy("too many sign-ins at once; try again in a few seconds")
        self._waiting += 1
        try:
            await self._limiter.acquire()
        finally:
            self._waiting -= 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, fn, *args)  # type: ignore[arg-type]
        finally:
            self._limiter.release()


_LOW_PRIORITY = 10  # nice value: CPU left over from ingest, web and jobs


def _lower_priority() -> None:
    """Lower this thread's CPU priority (Linux: a nice value per thread; the threads
    argon2 starts for its lanes inherit it). Elsewhere it runs as it is."""
    if hasattr(os, "setpriority") and hasattr(threading, "get_native_id"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _LOW_PRIORITY)
