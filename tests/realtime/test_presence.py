"""The presence contract, over memory and Redis, on a fake clock (no sleeping)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from threadline.clock import FakeClock
from threadline.ports import PresenceChange, Viewer
from threadline.realtime.presence import MemoryPresence, PresenceLimits
from threadline.realtime.redis_presence import RedisPresence

pytestmark = pytest.mark.anyio

ANA, BEN = 1, 2
CONV = 12


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def make_presence(
    backend: str, clock: FakeClock, request: pytest.FixtureRequest
) -> AsyncIterator[Callable[..., Any]]:
    """Presence instances on one backend; Redis ones share state, as processes do."""
    made: list[Any] = []
    if backend == "redis":
        url, prefix = request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")

    def make(**limits: Any) -> Any:
        options = PresenceLimits(**limits)
        presence = (
            RedisPresence(url, clock, options, prefix=prefix)
            if backend == "redis"
            else MemoryPresence(clock, options)
        )
        made.append(presence)
        return presence

    yield make
    for presence in made:
        await presence.aclose()


async def test_an_agent_is_online_while_any_tab_is_active(make_presence: Any) -> None:
    p = make_presence()
    assert await p.beat(ANA, "tab-a", active=True) == PresenceChange(ANA, "online")
    assert await p.beat(ANA, "tab-b", active=False) is None
    assert await p.states() == {ANA: "online"}
    assert await p.beat(ANA, "tab-a", active=False) == PresenceChange(ANA, "away")
    assert await p.beat(ANA, "tab-b", active=True) == PresenceChange(ANA, "online")
    assert await p.leave(ANA, "tab-b") == PresenceChange(ANA, "away")
    assert await p.leave(ANA, "tab-a") == PresenceChange(ANA, "offline")
    assert await p.states() == {}
    assert await p.leave(ANA, "tab-a") is None  # leaving twice changes nothing


async def test_states_lists_only_agents_not_offline(make_presence: Any) -> None:
    p = make_presence()
    await p.beat(ANA, "a", active=True)
    await p.beat(BEN, "b", active=False)
    assert await p.states() == {ANA: "online", BEN: "away"}
    assert await p.states([BEN, 99]) == {BEN: "away"}
    assert await p.states([]) == {}


async def test_tabs_expire_by_the_clock_and_the_sweep_says_so_once(
    make_presence: Any, clock: FakeClock
) -> None:
    p = make_presence(ttl=45)
    await p.beat(ANA, "a", active=True)
    clock.advance(seconds=30)
    await p.beat(ANA, "a", active=True)  # the page beats: it lives on
    clock.advance(seconds=30)
    assert await p.sweep() == []
    clock.advance(seconds=16)  # 46 s since the last beat
    assert await p.sweep() == [PresenceChange(ANA, "offline")]
    assert await p.sweep() == []
    assert await p.states() == {}


async def test_an_active_tab_dying_leaves_the_agent_away(
    make_presence: Any, clock: FakeClock
) -> None:
    p = make_presence(ttl=45)
    await p.beat(ANA, "active", active=True)
    clock.advance(seconds=30)
    await p.beat(ANA, "background", active=False)
    clock.advance(seconds=20)
    assert await p.sweep() == [PresenceChange(ANA, "away")]
    assert await p.states([ANA]) == {ANA: "away"}


async def test_the_announced_state_holds_until_a_sweep_or_beat_changes_it(
    make_presence: Any, clock: FakeClock
) -> None:
    """A snapshot plus the changes must equal the truth: states() is what was announced."""
    p = make_presence(ttl=45)
    await p.beat(ANA, "a", active=True)
    clock.advance(seconds=60)
    assert await p.states() == {ANA: "online"}  # nobody was told otherwise yet
    # A new beat after the silent death: online was announced, online it is.
    assert await p.beat(ANA, "b", active=True) is None
    assert await p.sweep() == []


@pytest.mark.parametrize("backend", ["redis"])  # one process is all memory has
async def test_two_processes_share_one_presence(make_presence: Any) -> None:
    one, two = make_presence(), make_presence()
    assert await one.beat(ANA, "a", active=True) == PresenceChange(ANA, "online")
    assert await two.states() == {ANA: "online"}
    assert await two.beat(ANA, "b", active=True) is None  # announced once, not per process
    assert await two.leave(ANA, "a") is None
    assert await one.leave(ANA, "b") == PresenceChange(ANA, "offline")
    assert await two.states() == {}


@pytest.mark.parametrize("backend", ["redis"])  # one process is all memory has
async def test_two_processes_sweeping_announce_an_expiry_once(
    make_presence: Any, clock: FakeClock
) -> None:
    one, two = make_presence(ttl=45), make_presence(ttl=45)
    await one.beat(ANA, "a", active=True)
    await two.beat(BEN, "b", active=False)
    clock.advance(seconds=50)
    swept = await two.sweep() + await one.sweep()
    assert sorted(swept, key=lambda c: c.user_id) == [
        PresenceChange(ANA, "offline"),
        PresenceChange(BEN, "offline"),
    ]


async def test_an_agent_keeps_a_bounded_number_of_tabs(
    make_presence: Any, clock: FakeClock
) -> None:
    p = make_presence(max_tabs=2)
    await p.beat(ANA, "first", active=True)
    clock.advance(seconds=1)
    await p.beat(ANA, "second", active=False)
    clock.advance(seconds=1)
    await p.beat(ANA, "third", active=False)  # "first", the stalest, is dropped
    assert await p.states() == {ANA: "away"}
    await p.leave(ANA, "second")
    assert await p.leave(ANA, "third") == PresenceChange(ANA, "offline")


async def test_tab_ids_are_bounded(make_presence: Any) -> None:
    p = make_presence()
    with pytest.raises(ValueError, match="tab id"):
        await p.beat(ANA, "x" * 65, active=True)
    with pytest.raises(ValueError, match="tab id"):
        await p.viewing(CONV, ANA, "", typing=False)


async def test_viewers_and_typists_of_a_conversation(make_presence: Any, clock: FakeClock) -> None:
    p = make_presence(viewer_ttl=20, typing_ttl=6)
    assert await p.viewing(CONV, ANA, "a", typing=False) is True
    assert await p.viewing(CONV, ANA, "a", typing=False) is False  # a refresh, no change
    assert await p.viewing(CONV, BEN, "b", typing=True) is True
    assert await p.viewers(CONV) == [Viewer(ANA, False), Viewer(BEN, True)]
    assert await p.viewing(CONV, BEN, "b", typing=True) is False
    assert await p.viewers(CONV + 1) == []

    clock.advance(seconds=7)  # Ben's typing flag is older than 6 s
    assert await p.sweep_viewers() == [CONV]
    assert await p.viewers(CONV) == [Viewer(ANA, False), Viewer(BEN, False)]
    assert await p.sweep_viewers() == []

    assert await p.viewing(CONV, ANA, "a", typing=False) is False
    clock.advance(seconds=14)  # Ben's view is 21 s old, Ana's 14 s
    assert await p.sweep_viewers() == [CONV]
    assert await p.viewers(CONV) == [Viewer(ANA, False)]
    assert await p.left(CONV, ANA, "a") is True
    assert await p.viewers(CONV) == []
    assert await p.left(CONV, ANA, "a") is False


async def test_a_viewer_typing_in_any_tab_is_typing(make_presence: Any) -> None:
    p = make_presence()
    await p.viewing(CONV, ANA, "a", typing=False)
    assert await p.viewing(CONV, ANA, "b", typing=True) is True
    assert await p.viewers(CONV) == [Viewer(ANA, True)]
    assert await p.viewing(CONV, ANA, "b", typing=False) is True  # stopped: cleared at once
    assert await p.viewers(CONV) == [Viewer(ANA, False)]
    assert await p.left(CONV, ANA, "b") is False  # still viewing in tab a


async def test_a_conversation_keeps_a_bounded_number_of_viewers(
    make_presence: Any, clock: FakeClock
) -> None:
    p = make_presence(max_viewers=2)
    for user_id in (ANA, BEN, 3):
        await p.viewing(CONV, user_id, "t", typing=False)
        clock.advance(seconds=1)
    assert await p.viewers(CONV) == [Viewer(BEN, False), Viewer(3, False)]


@pytest.mark.parametrize("backend", ["redis"])  # one process is all memory has
async def test_viewers_are_shared_across_processes(make_presence: Any) -> None:
    one, two = make_presence(), make_presence()
    assert await one.viewing(CONV, ANA, "a", typing=True) is True
    assert await two.viewers(CONV) == [Viewer(ANA, True)]
    assert await two.viewing(CONV, BEN, "b", typing=False) is True
    assert await one.viewers(CONV) == [Viewer(ANA, True), Viewer(BEN, False)]
