"""Reading a rule from JSON-shaped data: every input is checked and bounded.

The shape (docs/rules.md has the full list)::

    {"name": "Refunds to billing", "events": ["message_received"],
     "conditions": [{"channel": ["email", "chat"]},
                    {"text": ["refund", "card declined"]},
                    {"any": [{"urgent": true}, {"priority": ["high", "urgent"]}]},
                    {"business_hours": "open", "not": true}],
     "actions": [{"assign_team": 2}, {"add_tag": "billing"}],
     "stop": false, "enabled": true}

Each condition names one fact; ``"not": true`` inverts it; ``any`` holds a group
of which one must hold. Each action names one kind. ``parse_rule`` raises only
RuleError, whose message says where the problem is (``conditions[1].text[0]``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

from threadline.core.attributes import InvalidAttributes, check_key
from threadline.core.model import Channel, ConversationStatus
from threadline.core.rules import (
    ACTION_KINDS,
    EVENTS,
    HOURS_FACTS,
    PRIORITIES,
    RULE_STATUSES,
    Action,
    Condition,
    Rule,
    RuleError,
)
from threadline.core.rules_text import words
from threadline.core.tags import InvalidTag, normalize_tag

__all__ = [
    "MAX_ACTIONS",
    "MAX_BODY_LENGTH",
    "MAX_CONDITIONS",
    "MAX_GROUP",
    "MAX_LIST",
    "MAX_NAME_LENGTH",
    "MAX_TERMS",
    "MAX_TERM_LENGTH",
    "parse_rule",
]

MAX_NAME_LENGTH = 200
MAX_CONDITIONS = 20
MAX_GROUP = 10  # conditions in one ``any`` group
MAX_ACTIONS = 10
MAX_LIST = 50  # values in one condition (channels, inboxes, tags…)
MAX_TERMS = 50
MAX_TERM_LENGTH = 100
MAX_TERM_WORDS = 6
MAX_BODY_LENGTH = 5000  # a reply's or a note's text
MAX_ID = 2**31 - 1
MAX_HOURS = 24 * 366
MAX_CATEGORY_LENGTH = 50

_RULE_KEYS = {"id", "version", "position", "name", "enabled", "events", "conditions"}
_RULE_KEYS |= {"actions", "stop"}
_ATTRIBUTE_OPS = ("eq", "ne", "contains", "in", "exists", "missing")
_STATUSES = tuple(s.value for s in ConversationStatus)
_CHANNELS = tuple(c.value for c in Channel)


def parse_rule(data: Any) -> Rule:
    """The rule ``data`` describes; RuleError (with the path) if it is not one."""
    if not isinstance(data, Mapping):
        raise RuleError("", "a rule is a JSON object")
    unknown = sorted(str(k)[:40] for k in data if k not in _RULE_KEYS)
    if unknown:
        raise RuleError("", f"unknown keys: {', '.join(unknown[:5])}")
    events = _list(data.get("events"), "events", len(EVENTS))
    if not events:
        raise RuleError("events", "a rule listens to at least one event")
    raw_conditions = _list(data.get("conditions", []), "conditions", MAX_CONDITIONS)
    raw_actions = _list(data.get("actions"), "actions", MAX_ACTIONS)
    if not raw_actions:
        raise RuleError("actions", "a rule does at least one thing")
    return Rule(
        id=_int(data.get("id", 0), "id", 0, MAX_ID),
        name=_line(data.get("name"), "name", MAX_NAME_LENGTH),
        events=tuple(dict.fromkeys(_choice(e, f"events[{i}]", EVENTS) for i, e in events)),
        conditions=tuple(_condition_or_group(c, f"conditions[{i}]") for i, c in raw_conditions),
        actions=tuple(_action(a, f"actions[{i}]") for i, a in raw_actions),
        version=_int(data.get("version", 1), "version", 1, MAX_ID),
        enabled=_bool(data.get("enabled", True), "enabled"),
        position=_int(data.get("position", 0), "position", 0, MAX_ID),
        stop=_bool(data.get("stop", False), "stop"),
    )


# -- conditions -------------------------------------------------------------------


def _condition_or_group(raw: Any, path: str) -> Condition | tuple[Condition, ...]:
    if isinstance(raw, Mapping) and "any" in raw:
        if len(raw) != 1:
            raise RuleError(path, "an 'any' group has no other keys")
        items = _list(raw["any"], f"{path}.any", MAX_GROUP)
        if not items:
            raise RuleError(f"{path}.any", "an 'any' group holds at least one condition")
        return tuple(_condition(c, f"{path}.any[{i}]") for i, c in items)
    return _condition(raw, path)


def _condition(raw: Any, path: str) -> Condition:
    if not isinstance(raw, Mapping):
        raise RuleError(path, 'a condition is a JSON object such as {"channel": ["email"]}')
    negate = _bool(raw.get("not", False), f"{path}.not")
    names = [k for k in raw if k != "not"]
    if len(names) != 1:
        raise RuleError(path, "a condition names exactly one fact (and optionally 'not')")
    name = names[0]
    reader = _CONDITIONS.get(name) if isinstance(name, str) else None
    if reader is None:
        known = ", ".join(sorted(_CONDITIONS))
        raise RuleError(path, f"unknown condition {str(name)[:40]!r}; use one of {known}")
    condition = reader(raw[name], f"{path}.{name}")
    return Condition(condition.field, condition.op, condition.value, negate, condition.key)


def _members(field: str, check: Callable[[Any, str], Any]) -> Callable[[Any, str], Condition]:
    def read(raw: Any, path: str) -> Condition:
        items = _list([raw] if not isinstance(raw, list) else raw, path, MAX_LIST)
        if not items:
            raise RuleError(path, "give at least one value")
        values = tuple(dict.fromkeys(check(v, f"{path}[{i}]") for i, v in items))
        return Condition(field, "in", values)

    return read


def _flag(field: str) -> Callable[[Any, str], Condition]:
    return lambda raw, path: Condition(field, "is", _bool(raw, path))


def _category(raw: Any, path: str) -> str:
    value = _line(raw, path, MAX_CATEGORY_LENGTH).lower()
    return value


def _inbox_id(raw: Any, path: str) -> int:
    return _int(raw, path, 1, MAX_ID)


def _level(raw: Any, path: str) -> int:
    return _int(raw, path, 1, 2)


def _tags(raw: Any, path: str) -> Condition:
    if not isinstance(raw, Mapping) or len(raw) != 1:
        raise RuleError(path, 'tags take one of {"any": [...]}, {"all": [...]}, {"none": [...]}')
    op, values = next(iter(raw.items()))
    if op not in ("any", "all", "none"):
        raise RuleError(path, f"unknown tag test {str(op)[:40]!r}; use any, all or none")
    items = _list(values, f"{path}.{op}", MAX_LIST)
    if not items:
        raise RuleError(f"{path}.{op}", "give at least one tag")
    return Condition(
        "tags", f"{op}_of", tuple(dict.fromkeys(_tag(t, f"{path}.{op}[{i}]") for i, t in items))
    )


def _attribute(raw: Any, path: str) -> Condition:
    if not isinstance(raw, Mapping):
        raise RuleError(path, 'an attribute test is {"key": …, "op": …, "value": …}')
    extra = set(raw) - {"key", "op", "value"}
    if extra:
        raise RuleError(path, f"unknown keys: {', '.join(sorted(str(k)[:40] for k in extra)[:5])}")
    key = raw.get("key")
    if not isinstance(key, str):
        raise RuleError(f"{path}.key", "the attribute's name is a string")
    try:
        check_key(key)
    except InvalidAttributes as exc:
        raise RuleError(f"{path}.key", str(exc)) from exc
    op = _choice(raw.get("op", "eq"), f"{path}.op", _ATTRIBUTE_OPS)
    if op in ("exists", "missing"):
        if raw.get("value") is not None:
            raise RuleError(f"{path}.value", f"'{op}' takes no value")
        return Condition("attribute", op, None, key=key)
    if op == "in":
        items = _list(raw.get("value"), f"{path}.value", MAX_LIST)
        if not items:
            raise RuleError(f"{path}.value", "give at least one value")
        values = tuple(_line(v, f"{path}.value[{i}]", 500, empty=True).casefold() for i, v in items)
        return Condition("attribute", op, values, key=key)
    value = _line(raw.get("value"), f"{path}.value", 500, empty=op != "contains").casefold()
    return Condition("attribute", op, value, key=key)


def _text(raw: Any, path: str) -> Condition:
    items = _list([raw] if isinstance(raw, str) else raw, path, MAX_TERMS)
    if not items:
        raise RuleError(path, "give at least one term")
    terms: list[str] = []
    for i, term in items:
        line = _line(term, f"{path}[{i}]", MAX_TERM_LENGTH)
        folded = words(line)
        if not folded:
            raise RuleError(f"{path}[{i}]", "a term needs at least one letter or digit")
        if len(folded) > MAX_TERM_WORDS:
            raise RuleError(f"{path}[{i}]", f"a term has at most {MAX_TERM_WORDS} words")
        terms.append(" ".join(folded))
    return Condition("text", "terms", tuple(dict.fromkeys(terms)))


def _business_hours(raw: Any, path: str) -> Condition:
    return Condition("business_hours", "is", _choice(raw, path, ("open", "closed")))


def _hours(field: str) -> Callable[[Any, str], Condition]:
    return lambda raw, path: _hours_since(field, raw, path)


def _hours_since(field: str, raw: Any, path: str) -> Condition:
    if not isinstance(raw, Mapping) or len(raw) != 1:
        raise RuleError(path, 'hours since take {"at_least": n} or {"at_most": n}')
    op, value = next(iter(raw.items()))
    if op not in ("at_least", "at_most"):
        raise RuleError(path, f"unknown comparison {str(op)[:40]!r}; use at_least or at_most")
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise RuleError(f"{path}.{op}", "a number of hours")
    if not 0 <= value <= MAX_HOURS:
        raise RuleError(f"{path}.{op}", f"between 0 and {MAX_HOURS} hours")
    return Condition(field, op, float(value))


_CONDITIONS: dict[str, Callable[[Any, str], Condition]] = {
    "channel": _members("channel", lambda v, p: _choice(v, p, _CHANNELS)),
    "inbox": _members("inbox_id", _inbox_id),
    "category": _members("category", _category),
    "urgent": _flag("urgent"),
    "sensitive": _flag("sensitive"),
    "priority": _members("priority", lambda v, p: _choice(v, p, PRIORITIES)),
    "tags": _tags,
    "attribute": _attribute,
    "text": _text,
    "business_hours": _business_hours,
    "status": _members("status", lambda v, p: _choice(v, p, _STATUSES)),
    "escalation_level": _members("escalation_level", _level),
    "assigned": _flag("assigned"),
    **{name: _hours(name) for name in HOURS_FACTS},
}


# -- actions ----------------------------------------------------------------------


def _action(raw: Any, path: str) -> Action:
    if not isinstance(raw, Mapping) or len(raw) != 1:
        raise RuleError(path, 'an action is a JSON object with one key, such as {"add_tag": "vip"}')
    kind, value = next(iter(raw.items()))
    if kind not in ACTION_KINDS:
        raise RuleError(
            path, f"unknown action {str(kind)[:40]!r}; use one of {', '.join(ACTION_KINDS)}"
        )
    at = f"{path}.{kind}"
    match kind:
        case "assign_agent" | "assign_team":
            return Action(kind, _int(value, at, 1, MAX_ID))
        case "set_priority":
            return Action(kind, _choice(value, at, PRIORITIES))
        case "add_tag":
            return Action(kind, _tag(value, at))
        case "set_escalation":
            return Action(kind, _level(value, at))
        case "reply" | "note":
            if isinstance(value, Mapping):
                if set(value) != {"body"}:
                    raise RuleError(at, 'give the text as a string or as {"body": …}')
                value, at = value["body"], f"{at}.body"
            return Action(kind, _body(value, at))
        case "notify":
            return _notify(value, at)
        case "set_status":
            return Action(kind, _choice(value, at, RULE_STATUSES))
    return Action(kind, _choice(value, at, _CHANNELS))  # suggest_channel


def _notify(raw: Any, path: str) -> Action:
    if not isinstance(raw, Mapping) or not set(raw) <= {"users", "teams", "text"}:
        raise RuleError(path, 'notify takes {"users": [ids], "teams": [ids], "text": …}')
    users = tuple(
        dict.fromkeys(
            _int(u, f"{path}.users[{i}]", 1, MAX_ID)
            for i, u in _list(raw.get("users", []), f"{path}.users", MAX_LIST)
        )
    )
    teams = tuple(
        dict.fromkeys(
            _int(t, f"{path}.teams[{i}]", 1, MAX_ID)
            for i, t in _list(raw.get("teams", []), f"{path}.teams", MAX_LIST)
        )
    )
    if not users and not teams:
        raise RuleError(path, "notify whom: give users or teams")
    text = _body(raw["text"], f"{path}.text") if raw.get("text") is not None else None
    return Action("notify", text, users, teams)


# -- values -----------------------------------------------------------------------


def _list(raw: Any, path: str, limit: int) -> list[tuple[int, Any]]:
    if not isinstance(raw, list):
        raise RuleError(path, "expected a list")
    if len(raw) > limit:
        raise RuleError(path, f"at most {limit} items")
    return list(enumerate(raw))


def _bool(raw: Any, path: str) -> bool:
    if not isinstance(raw, bool):
        raise RuleError(path, "expected true or false")
    return raw


def _int(raw: Any, path: str, low: int, high: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise RuleError(path, "expected a whole number")
    if not low <= raw <= high:
        raise RuleError(path, f"expected a number from {low} to {high}")
    return raw


def _choice(raw: Any, path: str, allowed: tuple[Any, ...]) -> Any:
    if isinstance(raw, bool) or raw not in allowed:
        shown = repr(raw)[:40] if isinstance(raw, str | int) else type(raw).__name__
        raise RuleError(path, f"{shown} is not one of {', '.join(map(str, allowed))}")
    return raw


def _printable(text: str, *, lines: bool) -> bool:
    allowed = "\n\t" if lines else ""
    return not any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed for ch in text)


def _line(raw: Any, path: str, limit: int, *, empty: bool = False) -> str:
    if not isinstance(raw, str):
        raise RuleError(path, "expected a string")
    text = raw.strip()
    if not text and not empty:
        raise RuleError(path, "cannot be empty")
    if len(text) > limit:
        raise RuleError(path, f"at most {limit} characters")
    if not _printable(text, lines=False):
        raise RuleError(path, "control characters are not allowed")
    return text


def _body(raw: Any, path: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise RuleError(path, "expected a non-empty text")
    if len(raw) > MAX_BODY_LENGTH:
        raise RuleError(path, f"at most {MAX_BODY_LENGTH} characters")
    if not _printable(raw, lines=True):
        raise RuleError(path, "control characters are not allowed")
    return raw.strip()


def _tag(raw: Any, path: str) -> str:
    if not isinstance(raw, str):
        raise RuleError(path, "a tag is a string")
    try:
        return normalize_tag(raw)
    except InvalidTag as exc:
        raise RuleError(path, str(exc)) from exc
