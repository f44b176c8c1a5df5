"""core.assignment.pick_agent as a table: who gets the conversation, and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from threadline.core.assignment import Candidate, Choice, Strategy, Wanted, pick_agent

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
RR, LB, MANUAL = Strategy.ROUND_ROBIN, Strategy.LOAD_BALANCED, Strategy.MANUAL
ANA, BEN, CAROL = 1, 2, 3
LEVEL2 = 9


def agent(
    id: int,
    *,
    online: bool = True,
    on_shift: bool = True,
    chats: int = 0,
    emails: int = 0,
    capacity: dict[str, int] | None = None,
    skills: tuple[str, ...] = (),
    teams: tuple[int, ...] = (),
    assigned_ago: timedelta | None = None,
) -> Candidate:
    return Candidate(
        id=id,
        name={ANA: "Ana", BEN: "Ben", CAROL: "Carol"}[id],
        online=online,
        on_shift=on_shift,
        skills=frozenset(skills),
        teams=frozenset(teams),
        open={"chat": chats, "email": emails},
        capacity=capacity or {},
        last_assigned_at=None if assigned_ago is None else NOW - assigned_ago,
    )


def want(
    channel: str = "chat",
    strategy: Strategy = RR,
    *,
    skills: frozenset[str] = frozenset(),
    team_id: int | None = None,
    previous_agent_id: int | None = None,
) -> Wanted:
    return Wanted(channel, strategy, skills, team_id, previous_agent_id)


H = timedelta(hours=1)

CASES = [
    # (name, candidates, wanted, expected choice)
    (
        "manual picks nobody",
        [agent(ANA)],
        want(strategy=MANUAL),
        Choice(None, "manual assignment: nobody is picked automatically"),
    ),
    (
        "round robin picks the agent assigned longest ago",
        [agent(ANA, assigned_ago=H, chats=1), agent(BEN, assigned_ago=2 * H)],
        want(),
        Choice(BEN, "round robin: Ben (1/3 chats)"),
    ),
    (
        "round robin puts a never-assigned agent first",
        [agent(ANA, assigned_ago=5 * H), agent(BEN)],
        want(),
        Choice(BEN, "round robin: Ben (1/3 chats)"),
    ),
    (
        "round robin breaks a tie by the lower id",
        [agent(BEN), agent(ANA)],
        want(),
        Choice(ANA, "round robin: Ana (1/3 chats)"),
    ),
    (
        "round robin counts load as it will be, 2/3",
        [agent(ANA, chats=1)],
        want(),
        Choice(ANA, "round robin: Ana (2/3 chats)"),
    ),
    (
        "load-balanced picks the lowest load relative to capacity",
        [
            agent(ANA, emails=5, capacity={"email": 10}),
            agent(BEN, emails=8, capacity={"email": 40}),
        ],
        want("email", LB),
        Choice(BEN, "least loaded: Ben (9/40 emails)"),
    ),
    (
        "load-balanced breaks an equal load by who was assigned longest ago",
        [agent(ANA, chats=1, assigned_ago=H), agent(BEN, chats=1, assigned_ago=3 * H)],
        want(strategy=LB),
        Choice(BEN, "least loaded: Ben (2/3 chats)"),
    ),
    (
        "an agent at capacity is skipped",
        [agent(ANA, chats=3), agent(BEN, chats=2, assigned_ago=H)],
        want(),
        Choice(BEN, "round robin: Ben (3/3 chats)"),
    ),
    (
        "a capacity of zero takes nothing on that channel",
        [agent(ANA, capacity={"chat": 0})],
        want(),
        Choice(None, "nobody available: all at capacity"),
    ),
    (
        "everyone at capacity: nobody, and says so",
        [agent(ANA, chats=3), agent(BEN, chats=5)],
        want(),
        Choice(None, "nobody available: all at capacity"),
    ),
    (
        "capacity is per channel: full on chat still takes email",
        [agent(ANA, chats=3, emails=0)],
        want("email"),
        Choice(ANA, "round robin: Ana (1/20 emails)"),
    ),
    (
        "chat needs an online agent",
        [agent(ANA, online=False), agent(BEN, assigned_ago=H)],
        want(),
        Choice(BEN, "round robin: Ben (1/3 chats)"),
    ),
    (
        "chat with nobody online",
        [agent(ANA, online=False)],
        want(),
        Choice(None, "nobody available: nobody on shift is online for chat"),
    ),
    (
        "voice is real-time too",
        [agent(ANA, online=False)],
        want("voice"),
        Choice(None, "nobody available: nobody on shift is online for voice"),
    ),
    (
        "email goes to an agent on shift even when offline",
        [agent(ANA, online=False)],
        want("email"),
        Choice(ANA, "round robin: Ana (1/20 emails)"),
    ),
    (
        "social goes to an agent on shift even when offline",
        [agent(ANA, online=False)],
        want("whatsapp"),
        Choice(ANA, "round robin: Ana (1/10 whatsapp conversations)"),
    ),
    (
        "email needs the agent on shift",
        [agent(ANA, on_shift=False)],
        want("email"),
        Choice(None, "nobody available: nobody is on shift for email"),
    ),
    (
        "online but off shift takes no chat",
        [agent(ANA, on_shift=False), agent(BEN, assigned_ago=H)],
        want(),
        Choice(BEN, "round robin: Ben (1/3 chats)"),
    ),
    (
        "skills: only agents with every skill wanted",
        [agent(ANA, skills=("billing",)), agent(BEN, skills=("billing", "german"))],
        want(skills=frozenset({"billing", "german"})),
        Choice(BEN, "round robin: Ben (1/3 chats)"),
    ),
    (
        "skills nobody has",
        [agent(ANA, skills=("billing",))],
        want(skills=frozenset({"german"})),
        Choice(None, "nobody available: nobody has german"),
    ),
    (
        "a team restricts to its members",
        [agent(ANA), agent(BEN, teams=(LEVEL2,), assigned_ago=H)],
        want(team_id=LEVEL2),
        Choice(BEN, "round robin: Ben (1/3 chats)"),
    ),
    (
        "a team with no candidate",
        [agent(ANA)],
        want(team_id=LEVEL2),
        Choice(None, "nobody available: the team has no agents"),
    ),
    (
        "no candidates at all",
        [],
        want(),
        Choice(None, "nobody available: no agent works this inbox"),
    ),
    (
        "sticky: the returning customer's agent wins over round robin",
        [agent(ANA, chats=2, assigned_ago=timedelta(0)), agent(BEN, assigned_ago=H)],
        want(previous_agent_id=ANA),
        Choice(ANA, "returning customer: Ana (3/3 chats)"),
    ),
    (
        "sticky: the previous agent at capacity falls back to the strategy",
        [agent(ANA, chats=3), agent(BEN, chats=2)],
        want(strategy=LB, previous_agent_id=ANA),
        Choice(BEN, "least loaded: Ben (3/3 chats)"),
    ),
    (
        "sticky: the previous agent offline for chat falls back",
        [agent(ANA, online=False), agent(BEN)],
        want(previous_agent_id=ANA),
        Choice(BEN, "round robin: Ben (1/3 chats)"),
    ),
    (
        "sticky: the previous agent off shift falls back",
        [agent(ANA, on_shift=False), agent(BEN)],
        want("email", previous_agent_id=ANA),
        Choice(BEN, "round robin: Ben (1/20 emails)"),
    ),
    (
        "sticky: the previous agent outside the level-2 team falls back",
        [agent(ANA), agent(BEN, teams=(LEVEL2,))],
        want(team_id=LEVEL2, previous_agent_id=ANA),
        Choice(BEN, "round robin: Ben (1/3 chats)"),
    ),
    (
        "sticky: a previous agent no longer a candidate is ignored",
        [agent(BEN)],
        want(previous_agent_id=CAROL),
        Choice(BEN, "round robin: Ben (1/3 chats)"),
    ),
]


@pytest.mark.parametrize(
    ("candidates", "wanted", "expected"),
    [pytest.param(c, w, e, id=name) for name, c, w, e in CASES],
)
def test_pick_agent(candidates: list[Candidate], wanted: Wanted, expected: Choice) -> None:
    assert pick_agent(candidates, wanted) == expected
