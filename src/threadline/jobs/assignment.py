"""The assignment jobs: assign one queued conversation, and the sweep that retries
the queue (agents come online, free capacity, start a shift; a batch time comes).

Presence lives outside the database (memory or Redis), so it is read here, before
the transaction, and handed to the action.
"""

from __future__ import annotations

from functools import partial

import structlog

from threadline.actions.assignment import assign_queued, due_queued
from threadline.actions.assignment_queue import schedule_sweep, waiting_any
from threadline.bus import Bus
from threadline.jobs.queue import Job
from threadline.ports import Presence
from threadline.storage.db import Tx

__all__ = ["Assign", "AssignSweep"]

log = structlog.get_logger(__name__)


async def _online(presence: Presence) -> set[int]:
    return {user for user, state in (await presence.states()).items() if state == "online"}


class Assign:
    def __init__(self, bus: Bus, presence: Presence) -> None:
        self.bus = bus
        self.presence = presence

    async def __call__(self, job: Job) -> None:
        conversation_id = int(job.payload["conversation_id"])
        online = await _online(self.presence)
        await self.bus.execute(lambda tx: assign_queued(tx, conversation_id, online=online))


def _again(tx: Tx) -> None:
    # While anyone waits the sweep goes on; queueing a conversation restarts it.
    if waiting_any(tx):
        schedule_sweep(tx)


class AssignSweep:
    def __init__(self, bus: Bus, presence: Presence) -> None:
        self.bus = bus
        self.presence = presence

    async def __call__(self, job: Job) -> None:
        try:
            online = await _online(self.presence)
            waiting = await self.bus.execute(due_queued)
            for conversation_id in waiting:
                # One transaction each: a conversation that fails does not undo the rest.
                try:
                    await self.bus.execute(
                        partial(assign_queued, conversation_id=conversation_id, online=online)
                    )
                except Exception:
                    log.exception("assign.sweep_failed", conversation=conversation_id)
        finally:
            await self.bus.execute(_again)
