"""core.rules_eval: each condition and each action, rule order, stop, events, reasons."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from threadline.core.rules import Action, Facts, RuleError
from threadline.core.rules_eval import compile_rules, evaluate
from threadline.core.rules_parse import parse_rule

BASE = Facts(
    channel="email",
    inbox_id=3,
    category="billing",
    urgent=False,
    sensitive=False,
    priority="normal",
    tags=frozenset({"vip"}),
    attributes={"plan": "Pro", "country": "DE"},
    text="Hello, my card declined twice and I want a refund.",
    open_now=True,
    status="open",
    escalation_level=1,
    assigned=False,
    hours_since_customer=5.0,
    hours_since_agent=30.0,
    hours_in_status=80.0,
)


def matches(
    condition: dict[str, Any], facts: Facts = BASE, event: str = "message_received"
) -> bool:
    rule = parse_rule(
        {
            "id": 1,
            "name": "r",
            "events": [event],
            "conditions": [condition],
            "actions": [{"add_tag": "hit"}],
        }
    )
    return bool(evaluate(compile_rules([rule]), event, facts))


def with_(**changes: Any) -> Facts:
    return replace(BASE, **changes)


# -- each condition: one case that holds, one that does not -----------------------
CONDITIONS: list[tuple[dict[str, Any], Facts, Facts]] = [
    ({"channel": ["email", "sms"]}, BASE, with_(channel="chat")),
    ({"channel": "email"}, BASE, with_(channel="whatsapp")),
    ({"inbox": [3, 4]}, BASE, with_(inbox_id=5)),
    ({"inbox": [3]}, BASE, with_(inbox_id=None)),
    ({"category": ["Billing", "sales"]}, BASE, with_(category="logistics")),
    ({"category": ["billing"]}, BASE, with_(category=None)),
    ({"urgent": True}, with_(urgent=True), BASE),
    ({"urgent": False}, BASE, with_(urgent=True)),
    ({"sensitive": True}, with_(sensitive=True), BASE),
    ({"priority": ["normal", "high"]}, BASE, with_(priority="low")),
    ({"tags": {"any": ["vip", "press"]}}, BASE, with_(tags=frozenset({"press2"}))),
    ({"tags": {"all": ["vip", "beta"]}}, with_(tags=frozenset({"vip", "beta", "x"})), BASE),
    ({"tags": {"none": ["VIP"]}}, with_(tags=frozenset()), BASE),
    (
        {"attribute": {"key": "plan", "op": "eq", "value": "pro"}},
        BASE,
        with_(attributes={"plan": "free"}),
    ),
    ({"attribute": {"key": "plan", "value": "PRO"}}, BASE, with_(attributes={})),
    (
        {"attribute": {"key": "plan", "op": "ne", "value": "free"}},
        BASE,
        with_(attributes={"plan": "free"}),
    ),
    (
        {"attribute": {"key": "plan", "op": "ne", "value": "free"}},
        with_(attributes={}),
        with_(attributes={"plan": "FREE"}),
    ),
    (
        {"attribute": {"key": "plan", "op": "in", "value": ["pro", "team"]}},
        BASE,
        with_(attributes={"plan": "free"}),
    ),
    (
        {"attribute": {"key": "plan", "op": "contains", "value": "r"}},
        BASE,
        with_(attributes={"plan": "basic"}),
    ),
    ({"attribute": {"key": "country", "op": "exists"}}, BASE, with_(attributes={"plan": "pro"})),
    ({"attribute": {"key": "country", "op": "missing"}}, with_(attributes={}), BASE),
    ({"text": ["refund"]}, BASE, with_(text="Where is my parcel?")),
    ({"text": ["card declined"]}, BASE, with_(text="my card was declined")),
    ({"text": ["refund"]}, with_(text="REFUND please"), with_(text="it was refunded")),
    (
        {"text": ["rückerstattung"]},
        with_(text="Bitte um RUCKERSTATTUNG"),
        with_(text="Rückerstattungen"),
    ),
    ({"text": ["envio"]}, with_(text="¿Dónde está mi envío?"), with_(text="envios")),
    (
        {"text": ["card declined"]},
        with_(text="Card-declined again"),
        with_(text="card was declined"),
    ),
    ({"text": ["mot de passe"]}, with_(text="Mot  de\npasse oublié"), with_(text="mot passe")),
    ({"business_hours": "open"}, BASE, with_(open_now=False)),
    ({"business_hours": "closed"}, with_(open_now=False), BASE),
    ({"status": ["open", "pending"]}, BASE, with_(status="resolved")),
    ({"escalation_level": [2]}, with_(escalation_level=2), BASE),
    ({"assigned": False}, BASE, with_(assigned=True)),
    ({"assigned": True}, with_(assigned=True), BASE),
    ({"hours_since_customer": {"at_least": 4}}, BASE, with_(hours_since_customer=3.5)),
    ({"hours_since_customer": {"at_least": 4}}, BASE, with_(hours_since_customer=None)),
    ({"hours_since_customer": {"at_most": 5}}, BASE, with_(hours_since_customer=5.5)),
    ({"hours_since_agent": {"at_least": 24}}, BASE, with_(hours_since_agent=23.9)),
    ({"hours_since_agent": {"at_least": 24}}, BASE, with_(hours_since_agent=None)),
    ({"hours_since_agent": {"at_most": 48}}, BASE, with_(hours_since_agent=48.5)),
    ({"hours_in_status": {"at_least": 72}}, BASE, with_(hours_in_status=71.99)),
    ({"hours_in_status": {"at_most": 100}}, BASE, with_(hours_in_status=100.5)),
    ({"any": [{"urgent": True}, {"priority": ["normal"]}]}, BASE, with_(priority="low")),
    ({"any": [{"text": ["parcel"]}, {"tags": {"any": ["vip"]}}]}, BASE, with_(tags=frozenset())),
]


@pytest.mark.parametrize(("condition", "holds", "fails"), CONDITIONS)
def test_each_condition_holds_for_one_set_of_facts_and_not_another(
    condition: dict[str, Any], holds: Facts, fails: Facts
) -> None:
    assert matches(condition, holds)
    assert not matches(condition, fails)


@pytest.mark.parametrize(
    ("condition", "holds", "fails"), [c for c in CONDITIONS if "any" not in c[0]]
)
def test_not_inverts_each_condition(condition: dict[str, Any], holds: Facts, fails: Facts) -> None:
    negated = {**condition, "not": True}
    assert not matches(negated, holds)
    assert matches(negated, fails)


# -- each action: parsed into data, returned in order with its rule ---------------
ACTIONS = [
    ({"assign_agent": 7}, Action("assign_agent", 7)),
    ({"assign_team": 2}, Action("assign_team", 2)),
    ({"set_priority": "urgent"}, Action("set_priority", "urgent")),
    ({"add_tag": "  Churn  Risk "}, Action("add_tag", "churn risk")),
    ({"set_escalation": 2}, Action("set_escalation", 2)),
    ({"reply": "Thanks, we are on it."}, Action("reply", "Thanks, we are on it.")),
    ({"reply": {"body": "Hi!\nSoon."}}, Action("reply", "Hi!\nSoon.")),
    ({"note": "Check the invoice first"}, Action("note", "Check the invoice first")),
    ({"notify": {"users": [1, 1, 2], "teams": [3]}}, Action("notify", None, (1, 2), (3,))),
    ({"notify": {"teams": [3], "text": "Look"}}, Action("notify", "Look", (), (3,))),
    ({"set_status": "pending"}, Action("set_status", "pending")),
    ({"suggest_channel": "voice"}, Action("suggest_channel", "voice")),
]


@pytest.mark.parametrize(("raw", "action"), ACTIONS)
def test_each_action_comes_back_as_data_with_its_rule_and_a_reason(
    raw: dict[str, Any], action: Action
) -> None:
    rule = parse_rule(
        {"id": 9, "version": 4, "name": "Billing", "events": ["message_received"],
         "conditions": [{"text": ["refund"]}], "actions": [raw]}
    )  # fmt: skip
    [outcome] = evaluate(compile_rules([rule]), "message_received", BASE)
    assert outcome.action == action
    assert (outcome.rule_id, outcome.rule_name, outcome.version) == (9, "Billing", 4)
    assert outcome.reason == "matched text contains 'refund'"
    assert action.describe()


def rule(
    rid: int,
    position: int,
    *,
    stop: bool = False,
    events: tuple[str, ...] = ("message_received",),
    **extra: Any,
) -> Any:
    return parse_rule(
        {"id": rid, "name": f"rule {rid}", "events": list(events), "position": position,
         "actions": [{"add_tag": f"r{rid}"}], "stop": stop, **extra}
    )  # fmt: skip


def ran(rules: list[Any], event: str = "message_received", facts: Facts = BASE) -> list[int]:
    return [o.rule_id for o in evaluate(compile_rules(rules), event, facts)]


def test_rules_run_by_position_and_a_stop_rule_ends_the_run() -> None:
    assert ran([rule(1, 3), rule(2, 1), rule(3, 2)]) == [2, 3, 1]
    assert ran([rule(1, 3), rule(2, 1), rule(3, 2, stop=True)]) == [2, 3]


def test_a_stop_rule_that_does_not_match_stops_nothing() -> None:
    rules = [rule(1, 1, stop=True, conditions=[{"channel": ["sms"]}]), rule(2, 2)]
    assert ran(rules) == [2]


def test_a_rule_runs_only_for_the_events_it_listens_to() -> None:
    rules = [rule(1, 1, events=("status_changed", "sla_breach")), rule(2, 2)]
    assert ran(rules, "message_received") == [2]
    assert ran(rules, "sla_breach") == [1]
    assert ran(rules, "time_passed") == []


def test_a_disabled_rule_never_runs() -> None:
    assert ran([rule(1, 1, enabled=False), rule(2, 2)]) == [2]


def test_an_unknown_event_is_an_error() -> None:
    with pytest.raises(RuleError, match="unknown event"):
        evaluate(compile_rules([]), "message_deleted", BASE)


def test_a_channel_no_rule_names_still_meets_the_rules_without_channels() -> None:
    rules = [rule(1, 1, conditions=[{"channel": ["email"]}]), rule(2, 2)]
    assert ran(rules, facts=with_(channel="carrier-pigeon")) == [2]


def test_all_conditions_must_hold() -> None:
    conditions = [{"channel": ["email"]}, {"text": ["refund"]}, {"urgent": True}]
    assert ran([rule(1, 1, conditions=conditions)]) == []
    assert ran([rule(1, 1, conditions=conditions)], facts=with_(urgent=True)) == [1]


def test_two_conditions_on_one_fact_must_both_hold() -> None:
    conditions = [{"channel": ["email", "sms"]}, {"channel": ["email"], "not": True}]
    assert ran([rule(1, 1, conditions=conditions)], facts=with_(channel="sms")) == [1]
    assert ran([rule(1, 1, conditions=conditions)]) == []


def test_the_reason_names_the_conditions_and_the_term_found() -> None:
    conditions = [
        {"channel": ["email"]},
        {"text": ["invoice", "card declined"]},
        {"business_hours": "closed", "not": True},
    ]
    [outcome] = evaluate(
        compile_rules([rule(1, 1, conditions=conditions)]), "message_received", BASE
    )
    assert outcome.reason == (
        "matched channel is one of 'email'; text contains 'card declined'; "
        "not (business hours are closed)"
    )


def test_a_rule_without_conditions_matches_every_event_it_listens_to() -> None:
    [outcome] = evaluate(compile_rules([rule(1, 1)]), "message_received", with_(text=""))
    assert outcome.reason == "matches every event it listens to"


def test_many_rules_each_see_only_what_concerns_them() -> None:
    rules = [rule(i, i, conditions=[{"inbox": [i]}]) for i in range(1, 101)]
    rules += [rule(200 + i, 200 + i, conditions=[{"text": [f"word{i}"]}]) for i in range(100)]
    assert ran(rules, facts=with_(inbox_id=42, text="say word7 and word70")) == [42, 207, 270]


def test_a_time_passed_rule_waits_on_hours_in_status_and_says_so() -> None:
    rule = parse_rule(
        {
            "id": 7,
            "name": "Close the silent",
            "events": ["time_passed"],
            "conditions": [{"status": ["pending"]}, {"hours_in_status": {"at_least": 72}}],
            "actions": [{"set_status": "resolved"}],
        }
    )
    compiled = compile_rules([rule])
    pending = with_(status="pending")
    assert evaluate(compiled, "time_passed", replace(pending, hours_in_status=71.5)) == []
    [outcome] = evaluate(compiled, "time_passed", pending)
    assert outcome.action == Action("set_status", "resolved")
    assert "hours_in_status at least 72.0" in outcome.reason
    # the same facts on another event: the rule listens only to time passing
    assert evaluate(compiled, "status_changed", pending) == []
