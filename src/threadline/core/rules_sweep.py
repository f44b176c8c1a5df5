"""Which conversations a time_passed rule could hold for, as bounds a query can use.

A time_passed rule is checked on a sweep (jobs/rules.py), not on an event, so the
sweep must find its candidates without reading every conversation. From each rule's
top-level conditions that name a status or an hours fact (``hours_since_customer``,
``hours_since_agent``, ``hours_in_status``) comes a ``Prefilter``: the statuses it
can hold in and the hour bounds it needs. queries/rules_sweep.py turns that into an
indexed WHERE; the job then checks every condition as usual, so a prefilter may let
through more than the rule holds for, never less.

Resolved conversations are not swept: a time_passed rule acts on work still open.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from threadline.core.model import ConversationStatus
from threadline.core.rules import HOURS_FACTS, Condition, Rule

__all__ = ["MAX_TIMED_RULES", "SWEPT_STATUSES", "TIME_PASSED", "Prefilter", "prefilters"]

TIME_PASSED = "time_passed"
MAX_TIMED_RULES = 50  # enabled time_passed rules: each is one OR'ed branch of the sweep
SWEPT_STATUSES = frozenset(
    s.value for s in ConversationStatus if s is not ConversationStatus.RESOLVED
)


@dataclass(frozen=True, slots=True)
class Prefilter:
    rule_id: int
    statuses: frozenset[str]  # never empty, never resolved
    # (fact, "at_least" | "at_most", hours): the fact's time must be that far back
    bounds: tuple[tuple[str, str, float], ...]


def prefilters(rules: Iterable[Rule]) -> tuple[Prefilter, ...]:
    """One prefilter per enabled rule listening to time_passed that can hold for a
    conversation still open (a rule only for resolved ones has none)."""
    found = []
    for rule in rules:
        if not rule.enabled or TIME_PASSED not in rule.events:
            continue
        statuses = set(SWEPT_STATUSES)
        bounds = []
        for c in rule.conditions:
            if not isinstance(c, Condition):
                continue  # an any group: left to the job's full check
            if c.field == "status":
                named = set(c.value)
                statuses = statuses - named if c.negate else statuses & named
            elif c.field in HOURS_FACTS and not c.negate:
                bounds.append((c.field, c.op, float(c.value)))
        if statuses:
            found.append(Prefilter(rule.id, frozenset(statuses), tuple(bounds)))
    return tuple(found)
