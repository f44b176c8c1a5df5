"""The ``run_rules`` job: check an event against the rules and apply what they decide;
and the ``time_passed_sweep`` job that queues time_passed runs (actions/rule_sweep.py).

The compiled rules are kept between jobs and compiled again only when a rule's
id, version or position changed (one small query per job tells). The facts are
read and the outcomes applied in one unit of work, so what a rule saw is what
its actions change. A time_passed run applies only the rules that have not fired on
the conversation since it last changed (actions/rule_firings.py).
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from threadline.actions.rule_firings import claim_firings
from threadline.actions.rule_runs import apply_outcomes
from threadline.actions.rule_sweep import schedule_sweep, sweep_time_passed
from threadline.bus import Bus
from threadline.core.rules import EVENTS
from threadline.core.rules_eval import CompiledRules, compile_rules, evaluate
from threadline.core.rules_sweep import TIME_PASSED, Prefilter, prefilters
from threadline.jobs import queue
from threadline.jobs.queue import Job
from threadline.jobs.runner import JobFailed
from threadline.queries.rules import active_rules, load_facts, rule_key
from threadline.storage.db import Tx

__all__ = ["RunRules", "TimePassedSweep"]

log = structlog.get_logger(__name__)


class RunRules:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self._key: tuple[tuple[int, int, int], ...] | None = None
        self._compiled = compile_rules([])
        self._filters: tuple[Prefilter, ...] = ()

    async def compiled(self) -> CompiledRules:
        key = await self.bus.db.read(rule_key)
        if key != self._key:
            rules = await self.bus.db.read(active_rules)
            compiled = compile_rules(rules)
            self._compiled, self._key = compiled, key
            self._filters = prefilters(item.rule for item in compiled.rules)
        return self._compiled

    async def filters(self) -> tuple[Prefilter, ...]:
        """The enabled time_passed rules' prefilters, kept with the compiled rules."""
        await self.compiled()
        return self._filters

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
            if event == TIME_PASSED and outcomes:
                fresh = claim_firings(tx, conversation_id, {o.rule_id for o in outcomes})
                outcomes = [o for o in outcomes if o.rule_id in fresh]
            return apply_outcomes(tx, cfg, conversation_id, outcomes, depth=depth)

        applied = await self.bus.execute(run)
        if applied:
            log.info("rules.applied", rule_event=event, conversation=conversation_id, count=applied)


class TimePassedSweep:
    """One page of a time_passed sweep; the rules' prefilters come from RunRules's
    cache, so a sweep costs one small query when no rule changed."""

    def __init__(self, bus: Bus, runs: RunRules) -> None:
        self.bus = bus
        self.runs = runs

    async def __call__(self, job: Job) -> None:
        cfg = self.bus.cfg
        every = timedelta(seconds=cfg.time_passed_every)
        after = int(job.payload.get("after", 0))
        pass_ = str(job.payload.get("pass", ""))[:40]
        try:
            filters = await self.runs.filters()
            ids = await self.bus.execute(
                lambda tx: sweep_time_passed(
                    tx,
                    filters,
                    after=after,
                    batch=cfg.time_passed_batch,
                    every=every,
                    pass_=pass_ or tx.now.isoformat(),
                )
            )
        except Exception:
            # The chain of sweeps must not end with a failure: the next one still comes.
            await self.bus.execute(lambda tx: schedule_sweep(tx, every))
            raise
        if ids:
            log.info("rules.time_passed_sweep", after=after, queued=len(ids))
