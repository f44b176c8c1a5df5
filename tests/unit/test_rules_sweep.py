"""core.rules_sweep: what a time_passed rule lets the sweep's query narrow down."""

from __future__ import annotations

from typing import Any

from threadline.core.rules_parse import parse_rule
from threadline.core.rules_sweep import SWEPT_STATUSES, Prefilter, prefilters


def rule(conditions: list[Any], events: tuple[str, ...] = ("time_passed",), **kw: Any) -> Any:
    data = {"id": 1, "name": "r", "events": list(events), "conditions": conditions}
    return parse_rule({**data, "actions": [{"add_tag": "x"}], **kw})


def test_status_and_hour_bounds_become_the_prefilter() -> None:
    r = rule([{"status": ["pending"]}, {"hours_in_status": {"at_least": 72}}])
    assert prefilters([r]) == (
        Prefilter(1, frozenset({"pending"}), (("hours_in_status", "at_least", 72.0),)),
    )


def test_without_a_status_every_status_but_resolved_is_swept() -> None:
    [p] = prefilters([rule([{"hours_since_customer": {"at_least": 24}}])])
    assert p.statuses == SWEPT_STATUSES
    assert "resolved" not in p.statuses


def test_a_negated_status_takes_those_out_and_negated_hours_are_left_to_the_job() -> None:
    r = rule(
        [{"status": ["snoozed"], "not": True}, {"hours_since_agent": {"at_least": 5}, "not": True}]
    )
    [p] = prefilters([r])
    assert (p.statuses, p.bounds) == (frozenset({"open", "pending"}), ())


def test_conditions_in_an_any_group_do_not_narrow_the_sweep() -> None:
    r = rule([{"any": [{"status": ["open"]}, {"hours_in_status": {"at_least": 1}}]}])
    [p] = prefilters([r])
    assert (p.statuses, p.bounds) == (SWEPT_STATUSES, ())


def test_rules_not_on_time_passed_disabled_or_only_for_resolved_are_not_swept() -> None:
    assert prefilters([rule([], events=("message_received",))]) == ()
    assert prefilters([rule([], enabled=False)]) == ()
    assert prefilters([rule([{"status": ["resolved"]}])]) == ()
