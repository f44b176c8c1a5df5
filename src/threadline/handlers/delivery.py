"""Outbound delivery reacts to queued replies by waking the job runner at once."""

from __future__ import annotations

from threadline.core.events import ReplyQueued
from threadline.handlers.deps import HandlerDeps

__all__ = ["wake_runner"]


async def wake_runner(event: ReplyQueued, deps: HandlerDeps) -> None:
    # The job row was committed with the reply; this only saves the poll interval.
    deps.wake_jobs()
