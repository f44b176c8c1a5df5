"""Presence in one process: agents' tabs, and who views or types in a conversation.

Each method recomputes from live entries and compares with what it last
announced, so every change is returned exactly once, whichever call (a beat,
a sweep) notices it. RedisPresence keeps the same model in Redis.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from threadline.clock import Clock
from threadline.ports import PresenceChange, Viewer

__all__ = ["MAX_TAB", "MemoryPresence", "PresenceLimits", "check_tab"]

MAX_TAB = 64


@dataclass(frozen=True, slots=True)
class PresenceLimits:
    ttl: float = 45.0  # a tab without a beat for this long is gone (the page beats every 15 s)
    viewer_ttl: float = 20.0
    typing_ttl: float = 6.0
    max_tabs: int = 16  # per agent; the oldest beat goes first
    max_viewers: int = 50  # tabs per conversation; the oldest goes first


def check_tab(tab: str) -> str:
    if not isinstance(tab, str) or not tab or len(tab) > MAX_TAB:
        raise ValueError(f"a tab id is 1 to {MAX_TAB} characters")
    return tab


K = TypeVar("K")
V = TypeVar("V", bound=tuple[float, Any])  # (expires, ...)


def _evict(entries: dict[K, V], keep: K, limit: int) -> None:
    """Past the limit, the entries that expire first go (never the one just added)."""
    while len(entries) > limit:
        oldest = min((k for k in entries if k != keep), key=lambda k: entries[k][0])
        del entries[oldest]


class MemoryPresence:
    def __init__(self, clock: Clock, limits: PresenceLimits | None = None) -> None:
        self.clock = clock
        self.limits = limits or PresenceLimits()
        self._tabs: dict[int, dict[str, tuple[float, bool]]] = {}  # tab -> (expires, active)
        self._states: dict[int, str] = {}  # announced; absent = offline
        # (user, tab) -> (expires, typing until)
        self._rooms: dict[int, dict[tuple[int, str], tuple[float, float]]] = {}
        self._shown: dict[int, tuple[Viewer, ...]] = {}  # announced viewers

    async def aclose(self) -> None:
        pass

    def _now(self) -> float:
        return self.clock.now().timestamp()

    # -- agents ----------------------------------------------------------------------
    async def beat(self, user_id: int, tab: str, *, active: bool) -> PresenceChange | None:
        now = self._now()
        tabs = self._tabs.setdefault(user_id, {})
        tabs[check_tab(tab)] = (now + self.limits.ttl, active)
        _evict(tabs, tab, self.limits.max_tabs)
        return self._settle(user_id, now)

    async def leave(self, user_id: int, tab: str) -> PresenceChange | None:
        self._tabs.get(user_id, {}).pop(tab, None)
        return self._settle(user_id, self._now())

    async def states(self, user_ids: Iterable[int] | None = None) -> dict[int, str]:
        if user_ids is None:
            return dict(self._states)
        return {u: self._states[u] for u in user_ids if u in self._states}

    async def sweep(self) -> list[PresenceChange]:
        now = self._now()
        changes = (self._settle(u, now) for u in list(self._states))
        return [c for c in changes if c is not None]

    def _settle(self, user_id: int, now: float) -> PresenceChange | None:
        tabs = self._tabs.get(user_id, {})
        for tab in [t for t, (expires, _) in tabs.items() if expires <= now]:
            del tabs[tab]
        if not tabs:
            self._tabs.pop(user_id, None)
        state = "online" if any(a for _, a in tabs.values()) else "away" if tabs else "offline"
        if state == self._states.get(user_id, "offline"):
            return None
        if state == "offline":
            del self._states[user_id]
        else:
            self._states[user_id] = state
        return PresenceChange(user_id, state)

    # -- conversations -------------------------------------------------------------
    async def viewing(self, conversation_id: int, user_id: int, tab: str, *, typing: bool) -> bool:
        now = self._now()
        room = self._rooms.setdefault(conversation_id, {})
        key = (user_id, check_tab(tab))
        room[key] = (now + self.limits.viewer_ttl, now + self.limits.typing_ttl if typing else 0)
        _evict(room, key, self.limits.max_viewers)
        return self._show(conversation_id, now)

    async def left(self, conversation_id: int, user_id: int, tab: str) -> bool:
        self._rooms.get(conversation_id, {}).pop((user_id, tab), None)
        return self._show(conversation_id, self._now())

    async def viewers(self, conversation_id: int) -> list[Viewer]:
        return list(self._shown.get(conversation_id, ()))

    async def sweep_viewers(self) -> list[int]:
        now = self._now()
        return [c for c in list(self._shown) if self._show(c, now)]

    def _show(self, conversation_id: int, now: float) -> bool:
        room = self._rooms.get(conversation_id, {})
        typing: dict[int, bool] = {}
        for key, (expires, typing_until) in list(room.items()):
            if expires <= now:
                del room[key]
            else:
                typing[key[0]] = typing.get(key[0], False) or typing_until > now
        if not room:
            self._rooms.pop(conversation_id, None)
        shown = tuple(Viewer(u, typing[u]) for u in sorted(typing))
        if shown == self._shown.get(conversation_id, ()):
            return False
        if shown:
            self._shown[conversation_id] = shown
        else:
            del self._shown[conversation_id]
        return True
