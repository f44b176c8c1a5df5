"""IMAP inbound edge: fetch new mail from one folder and hand over the raw bytes.

The poller keeps no state of its own between polls. Each poll reads
``(UIDVALIDITY, last UID)`` through ``load_state`` and the caller's ``deliver``
stores each message together with its new state in one transaction, so a crash
or a failing delivery at any point means the message is fetched again (at
least once), never skipped. The receipts table dedups the rare repeat on
Message-ID.

imapclient is synchronous: every IMAP call runs in a worker thread, one at a
time per poller, and ``deliver`` is awaited back on the event loop. ``poll_once``
and ``run`` must not be used concurrently on the same instance (they share one
connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import structlog
from imapclient import IMAPClient, SocketTimeout  # type: ignore[import-untyped]

__all__ = ["ImapConfig", "ImapPoller", "MailboxState"]

log = structlog.get_logger(__name__)
T = TypeVar("T")

FETCH_BATCH = 50
# One FETCH brings every body it names into memory at once: a run of large
# messages is fetched a few at a time, up to this many bytes (or one message).
FETCH_BYTES = 16 * 1024 * 1024
BACKOFF_MIN = 1.0
BACKOFF_MAX = 60.0
# Short enough that a set ``stop`` ends IDLE within about a second; the worker
# thread can't be interrupted while it waits on the socket.
IDLE_CHECK_INTERVAL = 1.0
# idle_check() swallows EOF and returns [] at once, so a dead connection shows
# up as empty wakeups long before the timeout. One such wakeup can be benign
# (a TLS record with no application data), several in a row are not.
_EMPTY_WAKEUPS_BEFORE_DEAD = 3

# What a broken or refused connection raises: socket errors (incl. SSL and
# timeouts), imaplib's error/abort (imapclient's errors subclass them) and ours.
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (OSError, imaplib.IMAP4.error, EOFError)


class _ConnectionLost(EOFError):
    """The server went away while we were idling."""


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    username: str
    password: str
    folder: str = "INBOX"
    ssl: bool = False
    # RFC 2177: servers may drop a client idle for 30 minutes, so re-issue IDLE
    # at least every 29.
    idle_timeout: float = 29 * 60
    # Only used when the server lacks IDLE.
    poll_interval: float = 60.0
    connect_timeout: float = 15.0
    # Without a read timeout a half-open TCP connection blocks the worker thread
    # forever; IDLE waits don't count, they poll the socket on their own timer.
    read_timeout: float = 120.0


@dataclass(frozen=True)
class MailboxState:
    uidvalidity: int | None
    last_uid: int


class ImapPoller:
    def __init__(
        self,
        config: ImapConfig,
        *,
        load_state: Callable[[], Awaitable[MailboxState]],
        deliver: Callable[[bytes, int, int], Awaitable[None]],
        refuse: Callable[[int, int, int], Awaitable[None]] | None = None,
        max_bytes: int | None = None,
    ) -> None:
        """``refuse(size, uidvalidity, uid)`` is awaited, in UID order, instead of
        ``deliver`` for a message whose RFC822.SIZE is over ``max_bytes``: it is
        never fetched, and it must not hold up the UIDs after it."""
        self.config = config
        self._load_state = load_state
        self._deliver = deliver
        self._refuse = refuse
        self._max_bytes = max_bytes
        self._client: Any = None
        self._has_idle = False
        self._idling = False
        # Created on first use: it must belong to the running event loop.
        self._limiter: anyio.CapacityLimiter | None = None
        self._stop: anyio.Event | asyncio.Event | None = None

    @property
    def connected(self) -> bool:
        return self._client is not None

    # -- public API ------------------------------------------------------

    async def poll_once(self) -> int:
        """Deliver every message above the stored UID, in UID order; return how many."""
        state = await self._load_state()
        uidvalidity = await self._call(self._select)
        last_uid = state.last_uid
        if state.uidvalidity != uidvalidity:
            # The old UIDs mean nothing in the new validity: start over from the
            # first message and let Message-ID dedup absorb the mail we had.
            if state.uidvalidity is not None:
                log.warning(
                    "imap.uidvalidity_changed",
                    folder=self.config.folder,
                    old=state.uidvalidity,
                    new=uidvalidity,
                    last_uid=state.last_uid,
                )
            last_uid = 0
        uids = await self._call(self._search_after, last_uid)
        delivered = 0
        for start in range(0, len(uids), FETCH_BATCH):
            batch = uids[start : start + FETCH_BATCH]
            sizes = await self._call(self._sizes, batch)
            for group in self._plan(batch, sizes):
                if self._stop is not None and self._stop.is_set():
                    # A first import can be thousands of messages; each one is
                    # already durable, so stopping part-way loses nothing.
                    return delivered
                if isinstance(group, int):
                    if self._refuse is not None:
                        await self._refuse(sizes[group], uidvalidity, group)
                    delivered += 1
                    continue
                delivered += await self._fetch_and_deliver(group, uidvalidity)
        if delivered:
            log.info(
                "imap.delivered",
                folder=self.config.folder,
                count=delivered,
                uidvalidity=uidvalidity,
                last_uid=uids[-1],
            )
        return delivered

    def _plan(self, batch: Sequence[int], sizes: Mapping[int, int]) -> list[int | list[int]]:
        """``batch`` in UID order: a lone UID to refuse, or a list to fetch together."""
        plan: list[int | list[int]] = []
        group: list[int] = []
        group_bytes = 0
        for uid in batch:
            size = sizes.get(uid)
            if size is None:
                # Expunged between SEARCH and FETCH: nothing left to import.
                log.info("imap.message_vanished", folder=self.config.folder, uid=uid)
                continue
            too_big = self._refuse is not None and self._max_bytes is not None
            too_big = too_big and size > (self._max_bytes or 0)
            if group and (too_big or group_bytes + size > FETCH_BYTES):
                plan.append(group)
                group, group_bytes = [], 0
            if too_big:
                plan.append(uid)
            else:
                group.append(uid)
                group_bytes += size
        if group:
            plan.append(group)
        return plan

    async def _fetch_and_deliver(self, uids: list[int], uidvalidity: int) -> int:
        bodies = await self._call(self._fetch, uids)
        delivered = 0
        for uid in uids:
            if self._stop is not None and self._stop.is_set():
                return delivered
            raw = bodies.pop(uid, None)  # let each body go once it is stored
            if raw is None:
                log.info("imap.message_vanished", folder=self.config.folder, uid=uid)
                continue
            await self._deliver(raw, uidvalidity, uid)
            delivered += 1
        return delivered

    async def run(self, stop: anyio.Event | asyncio.Event) -> None:
        """Poll, then IDLE (or sleep) until there is news, until ``stop`` is set."""
        backoff = BACKOFF_MIN
        graceful = False
        self._stop = stop
        try:
            while not stop.is_set():
                try:
                    await self.poll_once()
                    backoff = BACKOFF_MIN
                    if stop.is_set():
                        break
                    if self._has_idle:
                        await self._idle(stop)
                    else:
                        await _wait(stop, self.config.poll_interval)
                except _CONNECTION_ERRORS as exc:
                    log.warning(
                        "imap.connection_error",
                        host=self.config.host,
                        folder=self.config.folder,
                        error=repr(exc),
                        retry_in=backoff,
                    )
                    await self._call(self._shutdown)
                    if await _wait(stop, backoff):
                        break
                    backoff = min(backoff * 2, BACKOFF_MAX)
                except Exception:
                    # Most likely ``deliver`` failed (database down); the connection
                    # is fine, and the message is fetched again next round.
                    log.exception("imap.poll_failed", folder=self.config.folder, retry_in=backoff)
                    if await _wait(stop, backoff):
                        break
                    backoff = min(backoff * 2, BACKOFF_MAX)
            graceful = True
        finally:
            self._stop = None
            if graceful:
                await self.aclose()
            else:
                # Cancelled or crashing: don't wait on the network, just drop it.
                self._shutdown()

    async def aclose(self) -> None:
        """Log out and close the connection, if any."""
        if self._client is not None:
            await self._call(self._logout)

    # -- event-loop side -------------------------------------------------

    async def _call(self, fn: Callable[..., T], *args: object) -> T:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(1)
        return await anyio.to_thread.run_sync(self._guarded, fn, *args, limiter=self._limiter)

    def _guarded(self, fn: Callable[..., T], *args: object) -> T:
        try:
            return fn(*args)
        except _CONNECTION_ERRORS:
            # After a protocol or socket error we no longer know what state the
            # session is in; the next call starts over on a new connection.
            self._shutdown()
            raise

    async def _idle(self, stop: anyio.Event | asyncio.Event) -> None:
        if not await self._call(self._enter_idle):
            return
        deadline = time.monotonic() + self.config.idle_timeout
        empty_wakeups = 0
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            timeout = min(IDLE_CHECK_INTERVAL, remaining)
            started = time.monotonic()
            responses = await self._call(self._idle_check, timeout)
            if _has_news(responses):
                break
            if not responses and time.monotonic() - started < timeout / 2:
                empty_wakeups += 1
                if empty_wakeups >= _EMPTY_WAKEUPS_BEFORE_DEAD:
                    raise _ConnectionLost("connection closed during IDLE")
            else:
                empty_wakeups = 0
        await self._call(self._leave_idle)

    # -- worker-thread side: blocking calls, run through _call() --------

    def _connect(self) -> Any:
        cfg = self.config
        client = IMAPClient(
            cfg.host,
            port=cfg.port,
            ssl=cfg.ssl,
            timeout=SocketTimeout(connect=cfg.connect_timeout, read=cfg.read_timeout),
        )
        try:
            client.login(cfg.username, cfg.password)
            self._has_idle = bool(client.has_capability("IDLE"))
        except BaseException:
            client.shutdown()
            raise
        log.info("imap.connected", host=cfg.host, port=cfg.port, idle=self._has_idle)
        return client

    def _select(self) -> int:
        if self._client is not None:
            try:
                return self._select_on(self._client)
            except _CONNECTION_ERRORS as exc:
                # A connection kept between polls may have been dropped by the
                # server (autologout) since; one fresh attempt before failing.
                log.info("imap.reconnecting", host=self.config.host, error=repr(exc))
                self._shutdown()
        self._client = self._connect()
        return self._select_on(self._client)

    def _select_on(self, client: Any) -> int:
        # EXAMINE: we never change the mailbox, and a read-only selection makes
        # sure of it (no \Seen, no \Recent consumed, no accidental expunge).
        resp = client.select_folder(self.config.folder, readonly=True)
        # Drop the SELECT's own EXISTS so that any EXISTS found later was a new
        # arrival (see _enter_idle).
        client._imap.untagged_responses.pop("EXISTS", None)
        try:
            return int(resp[b"UIDVALIDITY"])
        except KeyError:
            raise imaplib.IMAP4.error(
                f"no UIDVALIDITY when selecting {self.config.folder!r}"
            ) from None

    def _search_after(self, last_uid: int) -> list[int]:
        # For "N:*" the server always includes the highest UID even when it is
        # below N (RFC 3501 §6.4.8), hence the filter.
        found = self._client.search(["UID", f"{last_uid + 1}:*"])
        return sorted(uid for uid in found if uid > last_uid)

    def _sizes(self, uids: Sequence[int]) -> dict[int, int]:
        # RFC822.SIZE is the size of the message as IMAP would send it (RFC 3501).
        response = self._client.fetch(uids, ["RFC822.SIZE"])
        return {
            uid: int(data[b"RFC822.SIZE"])
            for uid, data in response.items()
            if b"RFC822.SIZE" in data
        }

    def _fetch(self, uids: Sequence[int]) -> dict[int, bytes]:
        # BODY.PEEK[] leaves \Seen alone: a person may read this mailbox too.
        response = self._client.fetch(uids, ["BODY.PEEK[]"])
        return {uid: bytes(data[b"BODY[]"]) for uid, data in response.items() if b"BODY[]" in data}

    def _enter_idle(self) -> bool:
        """Start IDLE, unless mail arrived since the SELECT; return whether idling."""
        client = self._client
        # An EXISTS that came in with a SEARCH/FETCH reply was already consumed
        # by imaplib and won't be announced again inside IDLE: idling now would
        # leave that message waiting until idle_timeout.
        if client._imap.untagged_responses.get("EXISTS"):
            return False
        client.idle()
        self._idling = True
        return True

    def _idle_check(self, timeout: float) -> list[tuple[Any, ...]]:
        responses: list[tuple[Any, ...]] = self._client.idle_check(timeout=timeout)
        for resp in responses:
            if resp and resp[0] == b"BYE":
                raise _ConnectionLost(f"server said BYE: {resp!r}")
        return responses

    def _leave_idle(self) -> None:
        self._idling = False
        self._client.idle_done()

    def _logout(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        if self._idling:
            # LOGOUT is not accepted inside IDLE; there is nothing to say goodbye to.
            self._idling = False
            client.shutdown()
            return
        try:
            client.logout()
        except Exception:
            with contextlib.suppress(OSError):
                client.shutdown()

    def _shutdown(self) -> None:
        client, self._client = self._client, None
        self._idling = False
        if client is not None:
            # Already-dead sockets fail to shut down; that's the state we want anyway.
            with contextlib.suppress(OSError):
                client.shutdown()


def _has_news(responses: Sequence[tuple[Any, ...]]) -> bool:
    # Only EXISTS means new mail; expunges and flag changes don't concern us.
    return any(len(r) >= 2 and r[1] == b"EXISTS" for r in responses)


async def _wait(stop: anyio.Event | asyncio.Event, seconds: float) -> bool:
    """Sleep up to ``seconds``; return True as soon as ``stop`` is set."""
    with anyio.move_on_after(seconds):
        await stop.wait()
    return stop.is_set()
