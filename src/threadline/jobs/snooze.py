"""The `wake_snoozed` job: open a snoozed conversation when its time comes."""

from __future__ import annotations

from threadline.actions.snooze import wake_conversation
from threadline.bus import Bus
from threadline.jobs.queue import Job

__all__ = ["Wake"]


class Wake:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def __call__(self, job: Job) -> None:
        conversation_id = int(job.payload["conversation_id"])
        # Idempotent: a second run (a lost completion) finds nothing left to wake.
        await self.bus.execute(lambda tx: wake_conversation(tx, conversation_id))
