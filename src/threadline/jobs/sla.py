"""The ``sla_timer`` job: a response target's warning or breach comes due.

Scheduled by actions/sla_clock.py at the warning time and at the due time; the
runner polls every second, so a timer fires within about a second of its time,
and at once after a restart for every timer that came due while it was down.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from threadline.actions.sla_clock import fire_timer
from threadline.bus import Bus
from threadline.core.sla_clock import ClockKind, Step
from threadline.jobs.queue import Job
from threadline.jobs.runner import JobFailed

__all__ = ["SlaTimer"]

log = structlog.get_logger(__name__)


class SlaTimer:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def __call__(self, job: Job) -> None:
        p = job.payload
        try:
            conversation_id = int(p["conversation_id"])
            kind, step = ClockKind(p["clock"]), Step(p["step"])
            due_at = datetime.fromisoformat(str(p["due_at"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise JobFailed(f"not an SLA timer: {exc}") from exc
        if due_at.tzinfo is None:
            raise JobFailed("not an SLA timer: its due time has no time zone")
        # Idempotent: a second run (a lost completion) finds the step taken.
        event = await self.bus.execute(
            lambda tx: fire_timer(
                tx, conversation_id=conversation_id, kind=kind, due_at=due_at, step=step
            )
        )
        log.info(
            "sla.timer",
            conversation=conversation_id,
            clock=kind.value,
            step=step.value,
            fired=event is not None,
        )
