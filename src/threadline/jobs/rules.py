"""The ``run_rules`` job: check an event against the rules and apply what they decide.

The compiled rules are kept between jobs and compiled again only when a rule's
id, version or position changed (one small query per job tells). The facts are
read and the outcomes applied in one unit of work, so what a rule saw is what
its actions change.
"""

from __future__ import annotations

import structlog

from threadline.actions.rule_runs import apply_outcomes
from threadline.bus import Bus
from threadline.core.rules import EVENTS
from threadline.core.rules_eval import CompiledRules, compile_rules, evaluate
from threadline.jobs import queue
from threadline.jobs.queue import Job
from threadline.jobs.runner import JobFailed
from threadline.queries.rules import active_rules, load_facts, rule_key
from threadline.storage.db import Tx

__all__ = ["RunRules"]

log = structlog.get_logger(__name__)


class RunRules:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self._key: tuple[tuple[int, int, int], ...] | None = None
        self._compiled = compile_rules([])

    async def compiled(self) -> CompiledRules:
        key = await self.bus.db.read(rule_key)
        if key != self._key:
            rules = await self.bus.db.read(active_rules)
            self._compiled, self._key = compile_rules(rules), key
        return self._compiled

    async def __call__(self, job: Job) -> None:
        payload = job.payload
        event = str(payload.get("event"))
        if event not in EVENTS:
            raise JobFailed(f"unknown rule event {event[:40]!r}")
        conversation_id = int(payload["conversation_id"])
        message_id = payload.get("message_id")
        depth = int(payload.get("depth", 0))
        compiled = await self.compiled()
        cfg = self.bus.cfg

        def run(tx: Tx) -> int:
            # Done in the same unit of work as the outcomes: a crash before the
            # commit runs the job again, and after it never repeats a reply.
            queue.complete(tx, job.id)
            facts = load_facts(
                tx.conn, conversation_id, int(message_id) if message_id else None, tx.now
            )
            if facts is None:
                return 0  # the conversation is gone (merged away): nothing to route
            outcomes = evaluate(compiled, event, facts)
            return apply_outcomes(tx, cfg, conversation_id, outcomes, depth=depth)

        applied = await self.bus.execute(run)
        if applied:
            log.info("rules.applied", rule_event=event, conversation=conversation_id, count=applied)
