"""Routing rules: what a rule is, the facts it is checked against, what it does.

A rule listens to events (a message received, a status changed…), checks
ordered conditions over a pure snapshot of facts, and yields actions as data;
the caller (jobs/rules.py) applies them through the ordinary actions. Parsing
lives in core/rules_parse.py, evaluation in core/rules_eval.py; this module
holds the shapes both agree on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = [
    "ACTION_KINDS",
    "EVENTS",
    "HOURS_FACTS",
    "PRIORITIES",
    "RULE_STATUSES",
    "Action",
    "Condition",
    "Facts",
    "Outcome",
    "Rule",
    "RuleError",
]

EVENTS = (
    "message_received",
    "conversation_created",
    "status_changed",
    "sla_warning",
    "sla_breach",
    "time_passed",
)
PRIORITIES = ("low", "normal", "high", "urgent")
# The facts counted in hours since something happened: what time_passed rules wait on.
HOURS_FACTS = ("hours_since_customer", "hours_since_agent", "hours_in_status")
# Snoozed needs a wake-up time, which a rule has no way to give.
RULE_STATUSES = ("open", "pending", "resolved")
ACTION_KINDS = (
    "assign_agent",
    "assign_team",
    "set_priority",
    "add_tag",
    "set_escalation",
    "reply",
    "note",
    "notify",
    "set_status",
    "suggest_channel",
)


class RuleError(ValueError):
    """A rule that cannot be used; the message names where (``path``) and why."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path else problem)


@dataclass(frozen=True, slots=True)
class Facts:
    """What a rule may look at, read once per event (queries/rules.py builds it)."""

    channel: str
    inbox_id: int | None = None
    category: str | None = None
    urgent: bool = False
    sensitive: bool = False
    priority: str = "normal"
    tags: frozenset[str] = frozenset()
    attributes: Mapping[str, str] = field(default_factory=dict)
    text: str = ""  # the message's text; empty for events without a message
    open_now: bool = True  # the inbox's business hours
    status: str = "open"
    escalation_level: int = 1
    assigned: bool = False
    hours_since_customer: float | None = None  # since the customer's last message
    hours_since_agent: float | None = None  # since an agent's last reply; None: none yet
    hours_in_status: float | None = None  # since the status last changed (or creation)


@dataclass(frozen=True, slots=True)
class Condition:
    """One parsed check. ``field`` names a Facts field (or ``attribute``/``text``);
    ``op`` and ``value`` say how it is compared; ``negate`` inverts it."""

    field: str
    op: str
    value: Any
    negate: bool = False
    key: str | None = None  # the attribute's name, for ``attribute``

    def describe(self) -> str:
        subject = f"attribute {self.key!r}" if self.key is not None else self.field
        if self.field == "business_hours":
            text = f"business hours are {self.value}"
        elif self.op == "is":
            text = f"{subject} is {_show(self.value)}"
        elif self.op == "in":
            text = f"{subject} is one of {_show_list(self.value)}"
        elif self.op == "terms":
            text = f"text contains one of {_show_list(self.value)}"
        elif self.op in ("exists", "missing"):
            text = f"{subject} {'is set' if self.op == 'exists' else 'is not set'}"
        else:
            shown = _show_list(self.value) if isinstance(self.value, tuple) else _show(self.value)
            text = f"{subject} {self.op.replace('_', ' ')} {shown}"
        return f"not ({text})" if self.negate else text


@dataclass(frozen=True, slots=True)
class Action:
    """What a rule does, as data. ``value`` is an id, a word or a text by kind;
    ``users``/``teams`` are a notification's recipients."""

    kind: str
    value: int | str | None = None
    users: tuple[int, ...] = ()
    teams: tuple[int, ...] = ()

    def describe(self) -> str:
        match self.kind:
            case "assign_agent":
                return f"assigned to agent {self.value}"
            case "assign_team":
                return f"assigned to team {self.value}"
            case "set_priority":
                return f"set the priority to {self.value}"
            case "add_tag":
                return f"added the tag {self.value!r}"
            case "set_escalation":
                return f"set the escalation level to {self.value}"
            case "reply":
                return "sent a template reply"
            case "note":
                return "added an internal note"
            case "notify":
                who = [f"user {u}" for u in self.users] + [f"team {t}" for t in self.teams]
                return f"notified {', '.join(who)}"
            case "set_status":
                return f"set the status to {self.value}"
            case "suggest_channel":
                return f"suggested replying by {self.value}"
        return self.kind


@dataclass(frozen=True, slots=True)
class Rule:
    id: int
    name: str
    events: tuple[str, ...]
    # Every condition must hold; a tuple inside is an ``any`` group (one must hold).
    conditions: tuple[Condition | tuple[Condition, ...], ...]
    actions: tuple[Action, ...]
    version: int = 1
    enabled: bool = True
    position: int = 0
    stop: bool = False  # later rules do not run once this one matched


class Outcome(NamedTuple):
    """One action of a rule that matched. A tuple, not a frozen dataclass: a busy
    message makes a dozen of these, and a tuple is built several times faster."""

    rule_id: int
    rule_name: str
    version: int
    action: Action
    reason: str  # "matched: channel is one of email; text contains 'refund'"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return repr(value) if isinstance(value, str) else str(value)


def _show_list(values: Any) -> str:
    return ", ".join(_show(v) for v in values)
