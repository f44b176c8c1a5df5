"""Evaluating rules fast: compile once, then check every message against them.

``compile_rules`` indexes the enabled rules by event and by each fact with few
values (channel, inbox, category, flags…), so a message finds the rules that may
concern it with a dict lookup and a bitwise AND per fact: a chat message never
looks at an email-only rule. An ``any`` group made only of such facts, a
rule's first "tags: any" test and its text terms are indexed the same way.
What is left becomes small checks, ordered cheap first: flags and set lookups,
then tags and attributes, then the message's text, whose words are read at most
once per message and only when a rule gets that far. Text terms are matched as
words (core/rules_text.py): a single-word term is one set lookup, a phrase a
substring search over the spaced words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from threadline.core.rules import (
    EVENTS,
    HOURS_FACTS,
    Condition,
    Facts,
    Outcome,
    Rule,
    RuleError,
)
from threadline.core.rules_text import padded, words

__all__ = ["MAX_RULES", "CompiledRules", "compile_rules", "evaluate"]

MAX_RULES = 2000  # active rules at once; past this a desk needs fewer, broader rules


class _Scan:
    """The message's words, read on first use and kept for the other rules."""

    __slots__ = ("_list", "_padded", "_text", "_words")

    def __init__(self, text: str) -> None:
        self._text = text
        self._list: list[str] = []
        self._words: set[str] | None = None
        self._padded: str | None = None

    def words(self) -> set[str]:
        if self._words is None:
            self._list = words(self._text)
            self._words = set(self._list)
        return self._words

    def padded(self) -> str:
        if self._padded is None:
            self.words()
            self._padded = padded(self._list)
        return self._padded


Check = Callable[[Facts, _Scan], bool]


@dataclass(frozen=True, slots=True)
class _Compiled:
    rule: Rule
    checks: tuple[Check, ...]
    # The reason's parts, worded at compile time; a tuple stands for a text
    # condition's terms, of which the one found is named when the rule matches.
    reason: tuple[str | tuple[str, ...], ...]
    outcomes: tuple[Outcome, ...]  # made once when the reason names no term found
    # With one text condition, the outcomes for each of its terms, made once too:
    # the terms in order, and whether each is a phrase (found in the spaced words).
    terms: tuple[tuple[str, bool], ...]
    by_term: dict[str, tuple[Outcome, ...]]


@dataclass(frozen=True, slots=True)
class _Table:
    """For one fact, each value's bitmask of the rules that value lets through."""

    get: Callable[[Facts], Any]
    masks: dict[Any, int]
    other: int  # for a value no rule names


@dataclass(frozen=True, slots=True)
class CompiledRules:
    """Rules ready to run. Rule i is bit i of the masks, in rule order."""

    rules: tuple[_Compiled, ...]
    events: dict[str, int]
    tables: tuple[_Table, ...]  # every rule must pass each (AND)
    # Rules with an indexed ``any`` group pass when one of these lets them (OR).
    grouped: int
    groups: tuple[_Table, ...]
    # Rules with an indexed "tags: any" test pass only when the conversation has
    # one of their tags.
    tagged: int
    tags: dict[str, int]
    # Rules with a text condition pass only when a word of the message is a term
    # of theirs, or the first word of one of their phrases.
    texts: int
    words: dict[str, int]
    count: int  # active rules


def compile_rules(rules: Iterable[Rule]) -> CompiledRules:
    active = sorted((r for r in rules if r.enabled), key=lambda r: (r.position, r.id))
    if len(active) > MAX_RULES:
        raise RuleError("", f"at most {MAX_RULES} rules can be active at once")
    compiled: list[_Compiled] = []
    events: dict[str, int] = {}
    indexed: list[dict[str, list[Condition]]] = []
    grouped: list[dict[str, list[Condition]]] = []
    tagged = texts = 0
    tags: dict[str, int] = {}
    words: dict[str, int] = {}
    for bit, rule in enumerate(active):
        by_field: dict[str, list[Condition]] = {}
        group: dict[str, list[Condition]] = {}
        rest: list[Condition | tuple[Condition, ...]] = []
        text: Condition | None = None
        tag: Condition | None = None
        for c in rule.conditions:
            if isinstance(c, tuple):
                if not group and all(x.field in _INDEXED for x in c):
                    for x in c:
                        group.setdefault(x.field, []).append(x)
                else:
                    rest.append(c)
            elif c.field in _INDEXED:
                by_field.setdefault(c.field, []).append(c)
            elif tag is None and c.field == "tags" and c.op == "any_of" and not c.negate:
                tag = c
                tagged |= 1 << bit
                for name in c.value:
                    tags[name] = tags.get(name, 0) | 1 << bit
            elif text is None and c.field == "text" and not c.negate:
                text = c
                texts |= 1 << bit
                for term in c.value:
                    first = term.partition(" ")[0]
                    words[first] = words.get(first, 0) | 1 << bit
                if any(" " in term for term in c.value):
                    rest.append(c)  # a phrase's other words are checked in order
            else:
                rest.append(c)
        indexed.append(by_field)
        grouped.append(group)
        checks = tuple(_check(c) for c in sorted(rest, key=_rank))
        reason = _reason_parts(rule)
        fixed = (
            _outcomes(rule, reason[0]) if isinstance(reason[0], str) and len(reason) == 1 else ()
        )
        found = [p for p in reason if isinstance(p, tuple)]
        terms = tuple((t, " " in t) for t in found[0]) if len(found) == 1 else ()
        by_term = {t: _outcomes(rule, _worded(reason, t)) for t, _ in terms}
        compiled.append(_Compiled(rule, checks, reason, fixed, terms, by_term))
        for event in rule.events:
            events[event] = events.get(event, 0) | 1 << bit
    return CompiledRules(
        rules=tuple(compiled),
        events=events,
        tables=_tables(indexed, every=True),
        grouped=sum(1 << bit for bit, group in enumerate(grouped) if group),
        groups=_tables(grouped, every=False),
        tagged=tagged,
        tags=tags,
        texts=texts,
        words=words,
        count=len(active),
    )


def _tables(indexed: list[dict[str, list[Condition]]], *, every: bool) -> tuple[_Table, ...]:
    """Conditions on a fact with few values, as one bitmask per value of that fact.

    With ``every``, a rule's conditions on the fact must all hold, and a rule with
    none on it passes; the masks are then ANDed over the facts. Otherwise they are
    one ``any`` group's members: one of them holding is enough, a rule with none on
    this fact is not let through by it, and the masks are ORed over the facts.
    """
    tables = []
    for name in _INDEXED:
        named = [(bit, by_field[name]) for bit, by_field in enumerate(indexed) if name in by_field]
        if not named:
            continue
        domain: set[Any] = {True, False} if name in _FLAGS else set()
        for _, conditions in named:
            for c in conditions:
                domain.update(_values(c))
        free = 0
        if every:
            for bit, by_field in enumerate(indexed):
                if name not in by_field:
                    free |= 1 << bit
        masks = dict.fromkeys(domain, free)
        other = free
        unseen = object()
        combine = all if every else any
        for bit, conditions in named:
            for value in domain:
                if combine(_holds(c, value) for c in conditions):
                    masks[value] |= 1 << bit
            if combine(_holds(c, unseen) for c in conditions):
                other |= 1 << bit
        field = "open_now" if name == "business_hours" else name
        tables.append(_Table(attrgetter(field), masks, other))
    return tuple(tables)


def _values(c: Condition) -> tuple[Any, ...]:
    if c.field == "business_hours":
        return (c.value == "open",)
    return tuple(c.value) if c.op == "in" else (c.value,)


def _holds(c: Condition, value: Any) -> bool:
    return (value in _values(c)) != c.negate


def evaluate(compiled: CompiledRules, event: str, facts: Facts) -> list[Outcome]:
    """The actions of every rule that holds for ``facts`` on ``event``, in rule order,
    up to and including the first matching rule marked ``stop``."""
    if event not in EVENTS:
        raise RuleError("event", f"unknown event {event[:40]!r}")
    candidates = compiled.events.get(event, 0)
    for table in compiled.tables:
        if not candidates:
            return []
        candidates &= table.masks.get(table.get(facts), table.other)
    if candidates & compiled.grouped:
        let = 0
        for table in compiled.groups:
            let |= table.masks.get(table.get(facts), table.other)
        candidates &= let | ~compiled.grouped
    if candidates & compiled.tagged:
        let = 0
        lookup = compiled.tags.get
        for tag in facts.tags:
            let |= lookup(tag, 0)
        candidates &= let | ~compiled.tagged
    scan = _Scan(facts.text)
    if candidates & compiled.texts:
        heard = 0
        lookup = compiled.words.get
        for word in scan.words():
            heard |= lookup(word, 0)
        candidates &= heard | ~compiled.texts
    outcomes: list[Outcome] = []
    rules = compiled.rules
    while candidates:
        low = candidates & -candidates
        candidates ^= low
        item = rules[low.bit_length() - 1]
        for check in item.checks:
            if not check(facts, scan):
                break
        else:
            rule = item.rule
            if item.outcomes:
                outcomes.extend(item.outcomes)
            elif item.terms:
                outcomes.extend(item.by_term[_first_found(item.terms, scan)])
            else:
                outcomes.extend(_outcomes(rule, _reason(item.reason, scan)))
            if rule.stop:
                break
    return outcomes


# Facts with a small set of values, checked by the masks above rather than per rule.
_FLAGS = ("urgent", "sensitive", "assigned", "business_hours")
_INDEXED = ("channel", "inbox_id", "category", "priority", "status", "escalation_level", *_FLAGS)

_COST = {"text": 3, "attribute": 2, "tags": 1, **dict.fromkeys(HOURS_FACTS, 1)}


def _rank(c: Condition | tuple[Condition, ...]) -> int:
    if isinstance(c, tuple):
        return 1 + max(_rank(x) for x in c)
    return _COST.get(c.field, 0)


def _check(c: Condition | tuple[Condition, ...]) -> Check:
    if isinstance(c, tuple):
        members = tuple(_check(x) for x in sorted(c, key=_rank))
        return lambda f, s: any(m(f, s) for m in members)
    check = _plain(c)
    if c.negate:
        inner = check
        return lambda f, s: not inner(f, s)
    return check


def _plain(c: Condition) -> Check:
    value: Any = c.value
    if c.field == "text":
        return _text(value)
    if c.field == "attribute":
        return _attribute(c)
    if c.field == "business_hours":
        is_open = value == "open"
        return lambda f, s: f.open_now is is_open
    if c.field == "tags":
        tags = frozenset(value)
        if c.op == "any_of":
            return lambda f, s: not tags.isdisjoint(f.tags)
        if c.op == "all_of":
            return lambda f, s: tags <= f.tags
        return lambda f, s: tags.isdisjoint(f.tags)
    get = attrgetter(c.field)
    if c.field in HOURS_FACTS:  # None (nothing happened yet) meets neither bound
        if c.op == "at_least":
            return lambda f, s: (hours := get(f)) is not None and hours >= value
        return lambda f, s: (hours := get(f)) is not None and hours <= value
    if c.op == "is":
        return lambda f, s: get(f) is value
    allowed = frozenset(value)
    return lambda f, s: get(f) in allowed


def _attribute(c: Condition) -> Check:
    key, op, value = c.key or "", c.op, c.value
    if op == "exists":
        return lambda f, s: key in f.attributes
    if op == "missing":
        return lambda f, s: key not in f.attributes
    if op == "ne":
        return lambda f, s: f.attributes.get(key, "").casefold() != value or key not in f.attributes
    if op == "in":
        allowed = frozenset(value)
        return lambda f, s: key in f.attributes and f.attributes[key].casefold() in allowed
    if op == "contains":
        return lambda f, s: value in f.attributes.get(key, "").casefold()
    return lambda f, s: key in f.attributes and f.attributes[key].casefold() == value


def _text(terms: tuple[str, ...]) -> Check:
    singles = frozenset(t for t in terms if " " not in t)
    phrases = tuple((t.partition(" ")[0], f" {t} ") for t in terms if " " in t)
    if not phrases:
        return lambda f, s: not singles.isdisjoint(s.words())

    def check(f: Facts, s: _Scan) -> bool:
        found = s.words()
        if not singles.isdisjoint(found):
            return True
        return any(first in found and phrase in s.padded() for first, phrase in phrases)

    return check


def _outcomes(rule: Rule, reason: str) -> tuple[Outcome, ...]:
    return tuple(Outcome(rule.id, rule.name, rule.version, a, reason) for a in rule.actions)


def _reason_parts(rule: Rule) -> tuple[str | tuple[str, ...], ...]:
    parts: list[str | tuple[str, ...]] = []
    for c in rule.conditions:
        if isinstance(c, tuple):
            parts.append("any of (" + " | ".join(x.describe() for x in c) + ")")
        elif c.field == "text" and not c.negate:
            parts.append(c.value)
        else:
            parts.append(c.describe())
    if not parts:
        return ("matches every event it listens to",)
    if all(isinstance(p, str) for p in parts):
        return ("matched " + "; ".join(str(p) for p in parts),)
    return ("matched ", *parts)


def _reason(parts: tuple[str | tuple[str, ...], ...], scan: _Scan) -> str:
    """Why the rule matched, for the timeline: its conditions, with the term found."""
    head, *rest = parts
    return str(head) + "; ".join(p if isinstance(p, str) else _found(p, scan) for p in rest)


def _worded(parts: tuple[str | tuple[str, ...], ...], term: str) -> str:
    """The reason when ``term`` is the one found (a rule with one text condition)."""
    head, *rest = parts
    return str(head) + "; ".join(p if isinstance(p, str) else _contains(term) for p in rest)


def _found(terms: tuple[str, ...], scan: _Scan) -> str:
    return _contains(_first_found(tuple((t, " " in t) for t in terms), scan))


def _first_found(terms: tuple[tuple[str, bool], ...], scan: _Scan) -> str:
    """The first of the terms in the message (the first term if none is: a negated
    or grouped text condition can let a rule match without one)."""
    found = scan.words()
    for term, phrase in terms:
        if (f" {term} " in scan.padded()) if phrase else (term in found):
            return term
    return terms[0][0]


def _contains(term: str) -> str:
    return f"text contains {term!r}"
