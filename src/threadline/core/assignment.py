"""Who gets a conversation: the assignment decision, pure.

The caller gathers the candidates (the agents who may work the conversation's
inbox, or its level-2 team) with their presence, shift, skills, teams and open
load; ``pick_agent`` filters them in a fixed order and says why it chose, or why
nobody: "round robin: Ana (2/3 chats)", "nobody available: all at capacity".

Real-time channels (chat, voice) need an agent online now; the others can wait
in the queue of an agent who is on shift even when their tab is closed.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from threadline.core.model import Channel

__all__ = [
    "DEFAULT_CAPACITY",
    "MAX_CAPACITY",
    "REALTIME",
    "Candidate",
    "Choice",
    "Strategy",
    "Wanted",
    "capacity_for",
    "describe_load",
    "pick_agent",
]

REALTIME = frozenset({Channel.CHAT.value, Channel.VOICE.value})
# Open conversations an agent takes per channel unless their own settings say otherwise.
DEFAULT_CAPACITY: Mapping[str, int] = {
    "chat": 3,
    "voice": 1,
    "email": 20,
    "sms": 10,
    "whatsapp": 10,
    "messenger": 10,
    "instagram": 10,
    "telegram": 10,
    "api": 20,
}
MAX_CAPACITY = 500
_NOUNS = {"chat": "chats", "voice": "calls", "email": "emails", "sms": "SMS"}


class Strategy(enum.StrEnum):
    MANUAL = "manual"  # nobody is picked: agents take conversations themselves
    ROUND_ROBIN = "round_robin"  # the eligible agent assigned longest ago
    LOAD_BALANCED = "load_balanced"  # the lowest open load relative to capacity


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    name: str
    online: bool
    on_shift: bool  # for the conversation's channel, now (core/shifts.on_shift)
    skills: frozenset[str] = frozenset()
    teams: frozenset[int] = frozenset()
    open: Mapping[str, int] = field(default_factory=dict)  # open conversations per channel
    capacity: Mapping[str, int] = field(default_factory=dict)  # overrides DEFAULT_CAPACITY
    last_assigned_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Wanted:
    """What the conversation needs."""

    channel: str
    strategy: Strategy
    skills: frozenset[str] = frozenset()
    team_id: int | None = None  # only this team's members (level 2, or a team assignment)
    previous_agent_id: int | None = None  # a returning customer's last agent


@dataclass(frozen=True, slots=True)
class Choice:
    agent_id: int | None
    reason: str


def capacity_for(candidate: Candidate, channel: str) -> int:
    return candidate.capacity.get(channel, DEFAULT_CAPACITY.get(channel, 10))


def describe_load(count: int, capacity: int, channel: str) -> str:
    """'2/3 chats', '5/20 emails', '1/10 whatsapp conversations'."""
    return f"{count}/{capacity} {_NOUNS.get(channel, f'{channel} conversations')}"


def _load(c: Candidate, channel: str) -> str:
    # The load once this conversation is theirs, as the agent will see it.
    return describe_load(c.open.get(channel, 0) + 1, capacity_for(c, channel), channel)


def _has_room(c: Candidate, channel: str) -> bool:
    return c.open.get(channel, 0) < capacity_for(c, channel)


def _since(c: Candidate) -> tuple[bool, float]:
    """Never assigned sorts first, then the longest ago."""
    at = c.last_assigned_at
    return (at is not None, at.timestamp() if at is not None else 0.0)


def pick_agent(candidates: Sequence[Candidate], wanted: Wanted) -> Choice:
    """The agent to assign and why; agent_id None says why nobody was."""
    if wanted.strategy is Strategy.MANUAL:
        return Choice(None, "manual assignment: nobody is picked automatically")
    channel = wanted.channel
    pool = list(candidates)
    if not pool:
        return Choice(None, "nobody available: no agent works this inbox")
    if wanted.team_id is not None:
        pool = [c for c in pool if wanted.team_id in c.teams]
        if not pool:
            return Choice(None, "nobody available: the team has no agents")
    if wanted.skills:
        pool = [c for c in pool if wanted.skills <= c.skills]
        if not pool:
            return Choice(None, f"nobody available: nobody has {', '.join(sorted(wanted.skills))}")
    pool = [c for c in pool if c.on_shift]
    if not pool:
        return Choice(None, f"nobody available: nobody is on shift for {channel}")
    if channel in REALTIME:
        pool = [c for c in pool if c.online]
        if not pool:
            return Choice(None, f"nobody available: nobody on shift is online for {channel}")
    pool = [c for c in pool if _has_room(c, channel)]
    if not pool:
        return Choice(None, "nobody available: all at capacity")
    sticky = next((c for c in pool if c.id == wanted.previous_agent_id), None)
    if sticky is not None:
        return Choice(sticky.id, f"returning customer: {sticky.name} ({_load(sticky, channel)})")
    if wanted.strategy is Strategy.ROUND_ROBIN:
        # Ties go to the lower id, so the order is stable.
        chosen = min(pool, key=lambda c: (*_since(c), c.id))
        return Choice(chosen.id, f"round robin: {chosen.name} ({_load(chosen, channel)})")
    chosen = min(
        pool,
        key=lambda c: (c.open.get(channel, 0) / capacity_for(c, channel), *_since(c), c.id),
    )
    return Choice(chosen.id, f"least loaded: {chosen.name} ({_load(chosen, channel)})")
