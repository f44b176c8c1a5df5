"""core.rules_eval's indexes agree with reading every rule's conditions one by one.

compile_rules turns most conditions into bitmasks per fact value (the facts with
few values, ``any`` groups of them, a rule's first "tags: any" test, text terms).
Here random rule sets, parsed from their JSON form, are run on random facts by
evaluate and by a plain interpreter written from the rule language's meaning; the
two must pick the same rules in the same order, stop rules included.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from threadline.core.rules import Condition, Facts, Rule
from threadline.core.rules_eval import compile_rules, evaluate
from threadline.core.rules_parse import parse_rule
from threadline.core.rules_text import padded, words

CHANNELS = ["email", "sms", "chat"]
CATEGORIES = ["billing", "sales"]
PRIORITIES = ["low", "normal", "urgent"]
STATUSES = ["open", "pending"]
TAGS = ["vip", "press", "beta"]
TERMS = ["refund", "parcel", "card declined", "late"]
WORDS = ["refund", "parcel", "card", "declined", "late", "hello"]
EVENTS = ["message_received", "status_changed"]


def _plain(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["channel", "inbox", "category", "priority", "status",
                                 "urgent", "assigned", "hours", "tags", "text"]))  # fmt: skip
    raw: dict[str, Any]
    if kind == "channel":
        raw = {"channel": draw(st.lists(st.sampled_from(CHANNELS), min_size=1, unique=True))}
    elif kind == "inbox":
        raw = {"inbox": draw(st.lists(st.integers(1, 3), min_size=1, unique=True))}
    elif kind == "category":
        raw = {"category": draw(st.lists(st.sampled_from(CATEGORIES), min_size=1, unique=True))}
    elif kind == "priority":
        raw = {"priority": draw(st.lists(st.sampled_from(PRIORITIES), min_size=1, unique=True))}
    elif kind == "status":
        raw = {"status": draw(st.lists(st.sampled_from(STATUSES), min_size=1, unique=True))}
    elif kind in ("urgent", "assigned"):
        raw = {kind: draw(st.booleans())}
    elif kind == "hours":
        raw = {"business_hours": draw(st.sampled_from(["open", "closed"]))}
    elif kind == "tags":
        test = draw(st.sampled_from(["any", "all", "none"]))
        raw = {"tags": {test: draw(st.lists(st.sampled_from(TAGS), min_size=1, unique=True))}}
    else:
        raw = {"text": draw(st.lists(st.sampled_from(TERMS), min_size=1, unique=True))}
    if draw(st.integers(0, 4)) == 0:
        raw["not"] = True
    return raw


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.integers(0, 3)) == 0:
        return {"any": [_plain(draw) for _ in range(draw(st.integers(1, 3)))]}
    return _plain(draw)


@st.composite
def rule_sets(draw: st.DrawFn) -> list[Rule]:
    rules = []
    for i in range(draw(st.integers(1, 12))):
        raw = {
            "id": i + 1,
            "name": f"r{i + 1}",
            "position": draw(st.integers(0, 5)),
            "events": draw(st.lists(st.sampled_from(EVENTS), min_size=1, unique=True)),
            "conditions": draw(st.lists(conditions(), max_size=4)),
            "actions": [{"add_tag": f"r{i + 1}"}],
            "stop": draw(st.integers(0, 5)) == 0,
            "enabled": draw(st.integers(0, 7)) != 0,
        }
        rules.append(parse_rule(raw))
    return rules


@st.composite
def facts(draw: st.DrawFn) -> Facts:
    return Facts(
        channel=draw(st.sampled_from([*CHANNELS, "voice"])),
        inbox_id=draw(st.sampled_from([None, 1, 2, 3, 4])),
        category=draw(st.sampled_from([None, *CATEGORIES, "other"])),
        urgent=draw(st.booleans()),
        priority=draw(st.sampled_from([*PRIORITIES, "high"])),
        tags=frozenset(draw(st.lists(st.sampled_from([*TAGS, "other"]), max_size=3))),
        text=" ".join(draw(st.lists(st.sampled_from(WORDS), max_size=6))),
        open_now=draw(st.booleans()),
        status=draw(st.sampled_from([*STATUSES, "resolved"])),
        assigned=draw(st.booleans()),
    )


def holds(c: Condition | tuple[Condition, ...], f: Facts) -> bool:
    """What a condition means, read straight off the facts."""
    if isinstance(c, tuple):
        return any(holds(x, f) for x in c)
    if c.field == "text":
        found, spaced = set(words(f.text)), padded(words(f.text))
        result = any(t in found if " " not in t else f" {t} " in spaced for t in c.value)
    elif c.field == "business_hours":
        result = f.open_now == (c.value == "open")
    elif c.field == "tags":
        wanted = set(c.value)
        result = {
            "any_of": bool(wanted & f.tags),
            "all_of": wanted <= f.tags,
            "none_of": not wanted & f.tags,
        }[c.op]
    elif c.op == "is":
        result = getattr(f, c.field) == c.value
    else:
        result = getattr(f, c.field) in c.value
    return result != c.negate


def reference(rules: list[Rule], event: str, f: Facts) -> list[int]:
    ran = []
    for rule in sorted((r for r in rules if r.enabled), key=lambda r: (r.position, r.id)):
        if event in rule.events and all(holds(c, f) for c in rule.conditions):
            ran.append(rule.id)
            if rule.stop:
                break
    return ran


@settings(max_examples=200, deadline=None)
@given(rules=rule_sets(), seen=st.lists(facts(), min_size=1, max_size=4))
def test_the_indexed_evaluation_runs_the_rules_a_plain_reading_of_them_runs(
    rules: list[Rule], seen: list[Facts]
) -> None:
    compiled = compile_rules(rules)
    for event in EVENTS:
        for f in seen:
            got = [o.rule_id for o in evaluate(compiled, event, f)]
            assert list(dict.fromkeys(got)) == reference(rules, event, f)
