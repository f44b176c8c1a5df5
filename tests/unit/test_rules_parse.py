"""core.rules_parse: a rule from JSON, with every input checked and bounded."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from threadline.core.rules import RuleError
from threadline.core.rules_parse import (
    MAX_ACTIONS,
    MAX_BODY_LENGTH,
    MAX_CONDITIONS,
    MAX_GROUP,
    MAX_LIST,
    MAX_NAME_LENGTH,
    MAX_TERM_LENGTH,
    MAX_TERMS,
    parse_rule,
)


def body(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "Refunds",
        "events": ["message_received"],
        "conditions": [{"channel": ["email"]}],
        "actions": [{"add_tag": "billing"}],
    }
    base.update(changes)
    return base


def test_a_full_rule_is_read_with_its_defaults() -> None:
    rule = parse_rule(body(events=["message_received", "conversation_created", "message_received"]))
    assert rule.name == "Refunds"
    assert rule.events == ("message_received", "conversation_created")
    assert (rule.id, rule.version, rule.position, rule.enabled, rule.stop) == (0, 1, 0, True, False)


ERRORS = [
    ([], "", "a rule is a JSON object"),
    (body(colour="red"), "", "unknown keys: colour"),
    (body(name=""), "name", "cannot be empty"),
    (body(name="x" * (MAX_NAME_LENGTH + 1)), "name", f"at most {MAX_NAME_LENGTH}"),
    (body(name="a\x00b"), "name", "control characters"),
    (body(name=5), "name", "expected a string"),
    (body(events=[]), "events", "at least one event"),
    (body(events="message_received"), "events", "expected a list"),
    (body(events=["message_deleted"]), "events[0]", "is not one of"),
    (body(actions=[]), "actions", "at least one thing"),
    (body(enabled="yes"), "enabled", "true or false"),
    (body(stop=1), "stop", "true or false"),
    (body(position=-1), "position", "from 0"),
    (body(version=True), "version", "whole number"),
    (body(conditions=[{"channel": ["fax"]}]), "conditions[0].channel[0]", "is not one of"),
    (body(conditions=[{"channel": []}]), "conditions[0].channel", "at least one value"),
    (body(conditions=[{"colour": "red"}]), "conditions[0]", "unknown condition 'colour'"),
    (
        body(conditions=[{"channel": ["email"], "urgent": True}]),
        "conditions[0]",
        "exactly one fact",
    ),
    (body(conditions=[{"not": True}]), "conditions[0]", "exactly one fact"),
    (body(conditions=["channel"]), "conditions[0]", "a condition is a JSON object"),
    (body(conditions=[{"urgent": "yes"}]), "conditions[0].urgent", "true or false"),
    (body(conditions=[{"urgent": True, "not": 1}]), "conditions[0].not", "true or false"),
    (body(conditions=[{"inbox": [0]}]), "conditions[0].inbox[0]", "from 1"),
    (body(conditions=[{"priority": ["asap"]}]), "conditions[0].priority[0]", "is not one of"),
    (body(conditions=[{"status": ["closed"]}]), "conditions[0].status[0]", "is not one of"),
    (body(conditions=[{"escalation_level": [3]}]), "conditions[0].escalation_level[0]", "to 2"),
    (body(conditions=[{"tags": ["vip"]}]), "conditions[0].tags", "any"),
    (body(conditions=[{"tags": {"some": ["vip"]}}]), "conditions[0].tags", "unknown tag test"),
    (body(conditions=[{"tags": {"any": ["a/b"]}}]), "conditions[0].tags.any[0]", "letters"),
    (body(conditions=[{"tags": {"any": []}}]), "conditions[0].tags.any", "at least one tag"),
    (
        body(conditions=[{"attribute": {"key": "a:b", "value": "x"}}]),
        "conditions[0].attribute.key",
        "attribute",
    ),
    (
        body(conditions=[{"attribute": {"key": "plan", "op": "gt", "value": "x"}}]),
        "conditions[0].attribute.op",
        "is not one of",
    ),
    (
        body(conditions=[{"attribute": {"key": "plan", "op": "exists", "value": "x"}}]),
        "conditions[0].attribute.value",
        "takes no value",
    ),
    (
        body(conditions=[{"attribute": {"key": "plan", "op": "in", "value": "pro"}}]),
        "conditions[0].attribute.value",
        "expected a list",
    ),
    (
        body(conditions=[{"attribute": {"key": "plan", "colour": 1}}]),
        "conditions[0].attribute",
        "unknown keys",
    ),
    (body(conditions=[{"text": []}]), "conditions[0].text", "at least one term"),
    (body(conditions=[{"text": ["!!!"]}]), "conditions[0].text[0]", "letter or digit"),
    (
        body(conditions=[{"text": ["x" * (MAX_TERM_LENGTH + 1)]}]),
        "conditions[0].text[0]",
        "at most",
    ),
    (body(conditions=[{"text": ["a b c d e f g"]}]), "conditions[0].text[0]", "at most 6 words"),
    (
        body(conditions=[{"text": ["w"] * (MAX_TERMS + 1)}]),
        "conditions[0].text",
        f"at most {MAX_TERMS}",
    ),
    (
        body(conditions=[{"business_hours": "sometimes"}]),
        "conditions[0].business_hours",
        "is not one of",
    ),
    (
        body(conditions=[{"hours_since_customer": 5}]),
        "conditions[0].hours_since_customer",
        "at_least",
    ),
    (
        body(conditions=[{"hours_since_customer": {"at_least": -1}}]),
        "conditions[0].hours_since_customer.at_least",
        "between",
    ),
    (
        body(conditions=[{"hours_since_customer": {"at_least": float("nan")}}]),
        "conditions[0].hours_since_customer.at_least",
        "a number",
    ),
    (
        body(conditions=[{"hours_since_agent": {"more_than": 5}}]),
        "conditions[0].hours_since_agent",
        "unknown comparison",
    ),
    (
        body(conditions=[{"hours_in_status": {"at_least": 24 * 367}}]),
        "conditions[0].hours_in_status.at_least",
        "between",
    ),
    (
        body(conditions=[{"hours_in_status": {"at_most": True}}]),
        "conditions[0].hours_in_status.at_most",
        "a number",
    ),
    (body(conditions=[{"any": []}]), "conditions[0].any", "at least one condition"),
    (body(conditions=[{"any": [{"urgent": True}], "not": True}]), "conditions[0]", "no other keys"),
    (
        body(conditions=[{"any": [{"any": [{"urgent": True}]}]}]),
        "conditions[0].any[0]",
        "unknown condition 'any'",
    ),
    (
        body(conditions=[{"any": [{"urgent": True}] * (MAX_GROUP + 1)}]),
        "conditions[0].any",
        f"at most {MAX_GROUP}",
    ),
    (
        body(conditions=[{"urgent": True}] * (MAX_CONDITIONS + 1)),
        "conditions",
        f"at most {MAX_CONDITIONS}",
    ),
    (
        body(conditions=[{"inbox": list(range(1, MAX_LIST + 2))}]),
        "conditions[0].inbox",
        f"at most {MAX_LIST}",
    ),
    (body(actions=[{"add_tag": "x"}] * (MAX_ACTIONS + 1)), "actions", f"at most {MAX_ACTIONS}"),
    (body(actions=[{"explode": True}]), "actions[0]", "unknown action 'explode'"),
    (body(actions=[{"add_tag": "a", "set_priority": "high"}]), "actions[0]", "one key"),
    (body(actions=[{"assign_agent": "7"}]), "actions[0].assign_agent", "whole number"),
    (body(actions=[{"assign_team": 0}]), "actions[0].assign_team", "from 1"),
    (body(actions=[{"set_priority": "asap"}]), "actions[0].set_priority", "is not one of"),
    (body(actions=[{"add_tag": ""}]), "actions[0].add_tag", "cannot be empty"),
    (body(actions=[{"set_escalation": 3}]), "actions[0].set_escalation", "to 2"),
    (body(actions=[{"reply": ""}]), "actions[0].reply", "non-empty"),
    (
        body(actions=[{"reply": "x" * (MAX_BODY_LENGTH + 1)}]),
        "actions[0].reply",
        f"at most {MAX_BODY_LENGTH}",
    ),
    (body(actions=[{"reply": {"text": "hi"}}]), "actions[0].reply", "body"),
    (body(actions=[{"note": "bell\x07"}]), "actions[0].note", "control characters"),
    (body(actions=[{"notify": {}}]), "actions[0].notify", "give users or teams"),
    (body(actions=[{"notify": {"users": [0]}}]), "actions[0].notify.users[0]", "from 1"),
    (body(actions=[{"notify": {"teams": [1], "colour": 1}}]), "actions[0].notify", "notify takes"),
    (body(actions=[{"set_status": "snoozed"}]), "actions[0].set_status", "is not one of"),
    (body(actions=[{"suggest_channel": "fax"}]), "actions[0].suggest_channel", "is not one of"),
]


@pytest.mark.parametrize(("data", "path", "problem"), ERRORS)
def test_a_bad_rule_is_refused_with_where_and_why(data: Any, path: str, problem: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_rule(data)
    assert caught.value.path == path
    assert problem in caught.value.problem


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=30,
)
KEYS = st.sampled_from(
    ["name", "events", "conditions", "actions", "enabled", "stop", "id", "version", "position",
     "channel", "text", "tags", "any", "not", "attribute", "key", "op", "value", "notify",
     "users", "teams", "reply", "body", "add_tag", "hours_since_customer", "hours_since_agent",
     "hours_in_status", "at_least", "at_most"]
)  # fmt: skip
NEAR = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from(["email", "open", "vip", "eq", "message_received", "", "\x00"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=40,
)  # fmt: skip


@settings(max_examples=300)
@given(st.one_of(JSON, NEAR))
def test_hostile_input_raises_only_rule_error(data: Any) -> None:
    try:
        parse_rule(data)
    except RuleError as exc:
        message = str(exc)
    else:
        message = "parsed"
    assert message


def test_every_rule_in_the_docs_is_a_valid_rule() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
    examples = re.findall(r"```json\n(.*?)```", docs.read_text(encoding="utf-8"), re.S)
    assert len(examples) >= 3
    for example in examples:
        parse_rule(json.loads(example))
