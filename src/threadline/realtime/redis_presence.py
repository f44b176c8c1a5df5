"""Presence in Redis, shared by every process: the model of presence.py, in Lua.

Expiry is a score (seconds from the container's Clock), not a Redis TTL, so a
fake clock drives it in tests as it drives the memory one. Each script
recomputes one agent (or conversation) from live entries and compares with the
announced state atomically, so two processes never both announce one change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff

from threadline.clock import Clock
from threadline.ports import PresenceChange, Viewer
from threadline.realtime.presence import PresenceLimits, check_tab

__all__ = ["RedisPresence"]

# Drops up to `extra` of the entries that expire first from KEYS[1] (and KEYS[2]),
# never ARGV[3], the one just refreshed.
_EVICT = """
local function evict(limit)
  local extra = redis.call('ZCARD', KEYS[1]) - limit
  if extra <= 0 then return end
  for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, extra)) do
    if extra > 0 and member ~= ARGV[3] then
      redis.call('ZREM', KEYS[1], member)
      redis.call('ZREM', KEYS[2], member)
      extra = extra - 1
    end
  end
end
"""

# KEYS: tabs, active tabs, announced states.
# ARGV: op (beat|leave|settle), user, tab, active, now, expires, max tabs.
_AGENT = (
    _EVICT
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])
if ARGV[1] == 'beat' then
  redis.call('ZADD', KEYS[1], ARGV[6], ARGV[3])
  if ARGV[4] == '1' then
    redis.call('ZADD', KEYS[2], ARGV[6], ARGV[3])
  else
    redis.call('ZREM', KEYS[2], ARGV[3])
  end
  evict(tonumber(ARGV[7]))
elseif ARGV[1] == 'leave' then
  redis.call('ZREM', KEYS[1], ARGV[3])
  redis.call('ZREM', KEYS[2], ARGV[3])
end
local state = 'offline'
if redis.call('ZCARD', KEYS[2]) > 0 then
  state = 'online'
elseif redis.call('ZCARD', KEYS[1]) > 0 then
  state = 'away'
end
if state == (redis.call('HGET', KEYS[3], ARGV[2]) or 'offline') then return false end
if state == 'offline' then
  redis.call('HDEL', KEYS[3], ARGV[2])
else
  redis.call('HSET', KEYS[3], ARGV[2], state)
end
return state
"""
)

# KEYS: viewers ("user:tab" scored by expiry), typists (scored by typing expiry),
# announced viewers (conversation -> "3,5*,8", * = typing).
# ARGV: op (view|left|settle), conversation, member, now, expires, typing until or '', max.
_ROOM = (
    _EVICT
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
if ARGV[1] == 'view' then
  redis.call('ZADD', KEYS[1], ARGV[5], ARGV[3])
  if ARGV[6] ~= '' then
    redis.call('ZADD', KEYS[2], ARGV[6], ARGV[3])
  else
    redis.call('ZREM', KEYS[2], ARGV[3])
  end
  evict(tonumber(ARGV[7]))
elseif ARGV[1] == 'left' then
  redis.call('ZREM', KEYS[1], ARGV[3])
  redis.call('ZREM', KEYS[2], ARGV[3])
end
local typing, users = {}, {}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local user = tonumber(string.match(member, '^(%d+):'))
  if typing[user] == nil then
    typing[user] = false
    table.insert(users, user)
  end
  if redis.call('ZSCORE', KEYS[2], member) then typing[user] = true end
end
table.sort(users)
local parts = {}
for _, user in ipairs(users) do
  parts[#parts + 1] = string.format('%d', user) .. (typing[user] and '*' or '')
end
local shown = table.concat(parts, ',')
if shown == (redis.call('HGET', KEYS[3], ARGV[2]) or '') then return 0 end
if shown == '' then
  redis.call('HDEL', KEYS[3], ARGV[2])
else
  redis.call('HSET', KEYS[3], ARGV[2], shown)
end
return 1
"""
)


class RedisPresence:
    def __init__(
        self, url: str, clock: Clock, limits: PresenceLimits | None = None, *, prefix: str = "tl:"
    ) -> None:
        self.clock = clock
        self.limits = limits or PresenceLimits()
        self._p = f"{prefix}pr:"
        self._redis = Redis.from_url(
            url,
            socket_connect_timeout=2.0,
            socket_timeout=5.0,
            retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.25), 2),
        )
        self._agent = self._redis.register_script(_AGENT)
        self._room = self._redis.register_script(_ROOM)

    async def aclose(self) -> None:
        await self._redis.aclose()

    def _now(self) -> float:
        return self.clock.now().timestamp()

    # -- agents ----------------------------------------------------------------------
    def _agent_keys(self, user_id: int) -> list[str]:
        return [f"{self._p}tabs:{user_id}", f"{self._p}act:{user_id}", f"{self._p}states"]

    async def _agent_op(
        self, op: str, user_id: int, tab: str = "", active: bool = False, client: Any = None
    ) -> Any:
        now = self._now()
        args: list[Any] = [op, int(user_id), tab, int(active), now, now + self.limits.ttl]
        return await self._agent(
            keys=self._agent_keys(user_id), args=[*args, self.limits.max_tabs], client=client
        )

    async def beat(self, user_id: int, tab: str, *, active: bool) -> PresenceChange | None:
        return _change(user_id, await self._agent_op("beat", user_id, check_tab(tab), active))

    async def leave(self, user_id: int, tab: str) -> PresenceChange | None:
        return _change(user_id, await self._agent_op("leave", user_id, tab))

    async def states(self, user_ids: Iterable[int] | None = None) -> dict[int, str]:
        key = f"{self._p}states"
        if user_ids is None:
            found = await self._redis.hgetall(key)
            return {int(u): _text(s) for u, s in found.items()}
        wanted = list(dict.fromkeys(int(u) for u in user_ids))
        if not wanted:
            return {}
        values = await self._redis.hmget(key, wanted)
        return {u: _text(s) for u, s in zip(wanted, values, strict=True) if s is not None}

    async def sweep(self) -> list[PresenceChange]:
        users = [int(u) for u in await self._redis.hkeys(f"{self._p}states")]
        if not users:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for user_id in users:
                await self._agent_op("settle", user_id, client=pipe)
            results = await pipe.execute()
        changes = (_change(u, r) for u, r in zip(users, results, strict=True))
        return [c for c in changes if c is not None]

    # -- conversations -------------------------------------------------------------
    def _room_keys(self, conversation_id: int) -> list[str]:
        cid = int(conversation_id)
        return [f"{self._p}room:{cid}", f"{self._p}typing:{cid}", f"{self._p}shown"]

    async def _room_op(
        self,
        op: str,
        conversation_id: int,
        member: str = "",
        typing: bool = False,
        client: Any = None,
    ) -> Any:
        now = self._now()
        until = now + self.limits.typing_ttl if typing else ""
        args: list[Any] = [op, int(conversation_id), member, now, now + self.limits.viewer_ttl]
        return await self._room(
            keys=self._room_keys(conversation_id),
            args=[*args, until, self.limits.max_viewers],
            client=client,
        )

    async def viewing(self, conversation_id: int, user_id: int, tab: str, *, typing: bool) -> bool:
        member = f"{int(user_id)}:{check_tab(tab)}"
        return bool(await self._room_op("view", conversation_id, member, typing))

    async def left(self, conversation_id: int, user_id: int, tab: str) -> bool:
        return bool(await self._room_op("left", conversation_id, f"{int(user_id)}:{tab}"))

    async def viewers(self, conversation_id: int) -> list[Viewer]:
        shown = await self._redis.hget(f"{self._p}shown", str(int(conversation_id)))
        if not shown:
            return []
        parts = _text(shown).split(",")
        return [Viewer(int(part.rstrip("*")), part.endswith("*")) for part in parts]

    async def sweep_viewers(self) -> list[int]:
        rooms = [int(c) for c in await self._redis.hkeys(f"{self._p}shown")]
        if not rooms:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for conversation_id in rooms:
                await self._room_op("settle", conversation_id, client=pipe)
            results = await pipe.execute()
        return [c for c, changed in zip(rooms, results, strict=True) if changed]


def _change(user_id: int, state: bytes | None) -> PresenceChange | None:
    return None if state is None else PresenceChange(user_id, _text(state))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
