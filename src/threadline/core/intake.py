"""Intake: the facts an agent needs before work on a conversation can start.

Each triage category lists its facts (billing: the order or invoice number, the name
on the account). A fact is found in the customer's own words by regular expressions an
admin may edit, so ``parse_checklist`` treats a checklist as hostile: every count and
length is bounded, a pattern that does not compile is refused, and so is one whose
shape can backtrack for long: an unbounded repeat, a match longer than ``MAX_MATCH``,
nested repeats that can split a text in too many ways (``_backtracking``).
Python's ``re`` has no timeout, so the other half of the bound is the text: ``extract``
reads at most ``MAX_TEXT`` characters of what the customer wrote, newest first.

Patterns are compiled without flags: write ``(?i:order number)`` for a label in any
case and keep a name's capital letters (``[A-Z][a-z]+``) meaningful. A pattern with a
group gives the group's text as the value; without one, the whole match.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from threadline.core.lexicon import CATEGORIES

__all__ = [
    "DEFAULT_CHECKLIST",
    "LANGUAGES",
    "MAX_FACTS",
    "MAX_PATTERNS",
    "MAX_PATTERN_LENGTH",
    "MAX_TEXT",
    "MAX_VALUE",
    "Checklist",
    "ChecklistError",
    "Fact",
    "Intake",
    "ask_text",
    "extract",
    "parse_checklist",
]

# The customer's latest messages say what they have told us so far; an older part of
# a long thread costs time and rarely holds a fact the newer part does not repeat.
MAX_TEXT = 4096  # characters, as triage scans (core/triage.py MAX_SCAN)
MAX_VALUE = 80  # characters of a found value, as shown
MAX_FACTS = 10  # per category
MAX_TOTAL_FACTS = 30
MAX_PATTERNS = 8  # per fact
MAX_PATTERN_LENGTH = 400
MAX_MATCH = 300  # characters one match may span
_LOG_MAX_WAYS = math.log(10_000)  # ways a nested repeat may split a text, at most
MAX_LABEL = 60
MAX_ASK = 120
MAX_TEMPLATE = 600
# The languages a question or a template may be written in; the customer's is guessed
# (core/language.py) among these.
LANGUAGES = ("en", "de", "es", "fr")
PLACEHOLDER = "{missing}"

_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
_SPACES = re.compile(r"\s+")
_AND = {"en": "and", "de": "und", "es": "y", "fr": "et"}


class ChecklistError(ValueError):
    """An edited checklist that cannot be used, and why."""


@dataclass(frozen=True, slots=True)
class Fact:
    key: str
    label: str  # "Order number"
    ask: Mapping[str, str]  # language -> "your order number"
    patterns: tuple[re.Pattern[str], ...]
    optional: bool = False  # shown when found; never asked for


@dataclass(frozen=True, slots=True)
class Checklist:
    facts: Mapping[str, tuple[Fact, ...]]  # category -> its facts, in order
    templates: Mapping[str, Mapping[str, str]]  # category -> language -> text

    def as_mapping(self) -> dict[str, Any]:
        """The checklist as ``parse_checklist`` takes it (to show, edit and store it)."""
        return {
            category: {
                "facts": [
                    {
                        "key": f.key,
                        "label": f.label,
                        "ask": dict(f.ask),
                        "patterns": [p.pattern for p in f.patterns],
                        **({"optional": True} if f.optional else {}),
                    }
                    for f in self.facts.get(category, ())
                ],
                "template": dict(self.templates.get(category, {})),
            }
            for category in CATEGORIES
        }


@dataclass(frozen=True, slots=True)
class Intake:
    category: str
    found: dict[str, str]  # key -> value, as the customer wrote it (bounded)
    missing: list[str]  # keys of the facts still to ask for, in the checklist's order


def extract(checklist: Checklist, category: str | None, texts: Sequence[str]) -> Intake:
    """What the customer's messages (oldest first) tell of the category's facts. The
    newest mention of a fact wins (a customer who corrects a number means the new one)."""
    category = category if category in CATEGORIES else "other"
    facts = checklist.facts.get(category, ())
    bounded = _last_chars(texts, MAX_TEXT)
    found: dict[str, str] = {}
    for fact in facts:
        value = _find(fact, bounded)
        if value:
            found[fact.key] = value
    missing = [f.key for f in facts if f.key not in found and not f.optional]
    return Intake(category, found, missing)


def ask_text(checklist: Checklist, intake: Intake, language: str | None) -> str | None:
    """The message asking for what is missing, in ``language`` where the template and
    every question have it, else in English; None when nothing is missing."""
    if not intake.missing:
        return None
    facts = {f.key: f for f in checklist.facts.get(intake.category, ())}
    template = checklist.templates.get(intake.category, {})
    lang = language if language in LANGUAGES else "en"
    asks = [facts[k].ask for k in intake.missing if k in facts]
    if lang not in template or any(lang not in a for a in asks):
        lang = "en"
    phrases = [a.get(lang) or next(iter(a.values())) for a in asks]
    text = template.get(lang) or next(iter(template.values()), PLACEHOLDER + "?")
    return text.replace(PLACEHOLDER, _join(phrases, _AND.get(lang, "and")))


def _join(phrases: list[str], word: str) -> str:
    if len(phrases) <= 1:
        return "".join(phrases)
    if word == "y" and phrases[-1].lower().startswith(("i", "hi")):
        word = "e"  # Spanish: 'y' becomes 'e' before an /i/ sound
    return f"{', '.join(phrases[:-1])} {word} {phrases[-1]}"


def _last_chars(texts: Sequence[str], limit: int) -> list[str]:
    """The newest texts first, each cut to its beginning (the customer writes on top;
    a quoted thread and a signature come below), at most ``limit`` characters in all."""
    out: list[str] = []
    left = limit
    for text in reversed(texts):
        if left <= 0:
            break
        out.append(text[:left])
        left -= len(out[-1])
    return out


def _find(fact: Fact, newest_first: list[str]) -> str | None:
    for text in newest_first:
        spans = sorted(
            ((m.start(), -m.end(), _value(m)) for p in fact.patterns for m in p.finditer(text)),
        )
        # The latest mention in the text wins; a match inside an earlier, longer one
        # ("Galaxy S22" in "Gerät: Samsung Galaxy S22") is part of it, not a new mention.
        best: tuple[int, str] | None = None  # (end, value)
        for start, neg_end, value in spans:
            if value and (best is None or start >= best[0]):
                best = (-neg_end, value)
        if best is not None:
            return best[1]
    return None


def _value(match: re.Match[str]) -> str:
    raw = next((g for g in match.groups() if g), None) if match.re.groups else match.group(0)
    value = _SPACES.sub(" ", raw or "").strip(" \t.,;:!?\"'«»“”()")
    return value[:MAX_VALUE]


def parse_checklist(raw: object) -> Checklist:
    """A checked, compiled checklist from a mapping like::

        {"billing": {"facts": [{"key": "order_number", "label": "Order number",
                                "ask": {"en": "your order number"},
                                "patterns": ["(?i:order)\\\\D{0,12}(\\\\d{4,})"],
                                "optional": false}],
                     "template": {"en": "Could you send us {missing}?"}},
         "sales": ..., "technical": ..., "logistics": ..., "other": ...}

    Every category is optional. Raises ``ChecklistError`` with a clear message."""
    if not isinstance(raw, Mapping):
        raise ChecklistError("a checklist is an object: category -> its facts and template")
    for name in raw:
        if name not in CATEGORIES:
            raise ChecklistError(
                f"unknown category {str(name)[:40]!r}; known: {', '.join(CATEGORIES)}"
            )
    facts: dict[str, tuple[Fact, ...]] = {}
    templates: dict[str, dict[str, str]] = {}
    for category in CATEGORIES:
        body = raw.get(category, {})
        if not isinstance(body, Mapping):
            raise ChecklistError(f"{category}: an object with 'facts' and 'template'")
        extra = sorted(str(k) for k in body if k not in ("facts", "template"))
        if extra:
            raise ChecklistError(f"{category}: unknown field {extra[0][:40]!r}")
        facts[category] = _facts(category, body.get("facts", []))
        templates[category] = _template(category, body.get("template", {}), facts[category])
    total = sum(len(f) for f in facts.values())
    if total > MAX_TOTAL_FACTS:
        raise ChecklistError(f"a checklist has at most {MAX_TOTAL_FACTS} facts ({total} given)")
    return Checklist(facts, templates)


def _facts(category: str, raw: object) -> tuple[Fact, ...]:
    if not isinstance(raw, list | tuple):
        raise ChecklistError(f"{category}: 'facts' is a list")
    if len(raw) > MAX_FACTS:
        raise ChecklistError(f"{category}: at most {MAX_FACTS} facts ({len(raw)} given)")
    out: list[Fact] = []
    for i, item in enumerate(raw):
        where = f"{category}, fact {i + 1}"
        if not isinstance(item, Mapping):
            raise ChecklistError(f"{where}: an object with key, label, ask and patterns")
        extra = sorted(
            str(k) for k in item if k not in ("key", "label", "ask", "patterns", "optional")
        )
        if extra:
            raise ChecklistError(f"{where}: unknown field {extra[0][:40]!r}")
        key = item.get("key")
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise ChecklistError(
                f"{where}: 'key' is 1 to 40 of a-z, 0-9 and _, starting with a letter"
            )
        if any(f.key == key for f in out):
            raise ChecklistError(f"{where}: the key {key!r} is used twice")
        where = f"{category}, {key}"
        label = _text(where, "label", item.get("label"), MAX_LABEL)
        ask = _phrases(where, "ask", item.get("ask"), MAX_ASK)
        optional = item.get("optional", False)
        if not isinstance(optional, bool):
            raise ChecklistError(f"{where}: 'optional' is true or false")
        out.append(Fact(key, label, ask, _patterns(where, item.get("patterns")), optional))
    return tuple(out)


def _text(where: str, field: str, raw: object, limit: int) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ChecklistError(f"{where}: {field!r} is a non-empty text")
    text = _SPACES.sub(" ", raw).strip()
    if len(text) > limit:
        raise ChecklistError(f"{where}: {field!r} has at most {limit} characters")
    return text


def _phrases(where: str, field: str, raw: object, limit: int) -> dict[str, str]:
    """Text per language; a plain string is the English one."""
    if isinstance(raw, str):
        raw = {"en": raw}
    if not isinstance(raw, Mapping) or not raw:
        raise ChecklistError(f"{where}: {field!r} is a text, or an object: language -> text")
    out: dict[str, str] = {}
    for lang, text in raw.items():
        if lang not in LANGUAGES:
            raise ChecklistError(
                f"{where}: {field!r}: unknown language {str(lang)[:10]!r}; known: "
                + ", ".join(LANGUAGES)
            )
        out[lang] = _text(where, f"{field}.{lang}", text, limit)
    return out


def _template(category: str, raw: object, facts: tuple[Fact, ...]) -> dict[str, str]:
    if raw in ({}, None, ""):
        if any(not f.optional for f in facts):
            raise ChecklistError(f"{category}: a 'template' asks for the missing facts")
        return {}
    out = _phrases(category, "template", raw, MAX_TEMPLATE)
    for lang, text in out.items():
        if PLACEHOLDER not in text:
            raise ChecklistError(f"{category}: template.{lang} must contain {PLACEHOLDER}")
    return out


def _patterns(where: str, raw: object) -> tuple[re.Pattern[str], ...]:
    if not isinstance(raw, list | tuple) or not raw:
        raise ChecklistError(f"{where}: 'patterns' is a list of 1 to {MAX_PATTERNS} expressions")
    if len(raw) > MAX_PATTERNS:
        raise ChecklistError(f"{where}: at most {MAX_PATTERNS} patterns ({len(raw)} given)")
    out = []
    for i, source in enumerate(raw):
        at = f"{where}, pattern {i + 1}"
        if not isinstance(source, str) or not source:
            raise ChecklistError(f"{at}: a pattern is a non-empty text")
        if len(source) > MAX_PATTERN_LENGTH:
            raise ChecklistError(f"{at}: at most {MAX_PATTERN_LENGTH} characters")
        try:
            pattern = re.compile(source)
        except re.error as exc:
            raise ChecklistError(f"{at}: not a regular expression: {exc}") from None
        if pattern.match(""):
            raise ChecklistError(f"{at}: it matches an empty text, so it finds nothing useful")
        why = _backtracking(source)
        if why:
            raise ChecklistError(f"{at}: {why}")
        out.append(pattern)
    return tuple(out)


def _backtracking(source: str) -> str | None:
    """Why the pattern could take long on some text, or None. Python's ``re`` has no
    timeout, so the shape is bounded instead, read from re's own parse tree (a private
    module, stable in practice; should it move, every pattern is refused, not run):

    - every repeat is bounded (``{0,40}``, not ``*``): an unbounded one, tried at each
      position of a long run of its characters, rescans the run (quadratic);
    - a match is at most ``MAX_MATCH`` characters, so each try is short;
    - a repeat inside a repeat can split a text in many ways (``(a{1,2}){1,30}``:
      exponential); the ways, the inner bound to the power of the outer, are capped.
    """
    try:
        from re import _constants, _parser  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - a future Python
        return "patterns cannot be checked on this Python"
    repeats = (_constants.MAX_REPEAT, _constants.MIN_REPEAT, _constants.POSSESSIVE_REPEAT)

    def walk(items: Any, outer: int) -> str | None:
        for op, arg in items:
            children: list[tuple[Any, int]] = []
            if op in repeats:
                _low, high, body = arg
                if high == _constants.MAXREPEAT:
                    return (
                        "every repeat needs a bound: write {0,40} rather than *, "
                        "{1,40} rather than +"
                    )
                if outer > 1 and high > 1 and outer * math.log(high) > _LOG_MAX_WAYS:
                    return (
                        "a repeat inside a repeat (like (a{1,2}){1,30}) can take very long; "
                        "make the outer one smaller or the inner one a fixed text"
                    )
                children = [(body, outer * high if high > 1 else outer)]
            elif op == _constants.SUBPATTERN:
                children = [(arg[-1], outer)]
            elif op == _constants.BRANCH:
                children = [(b, outer) for b in arg[1]]
            elif op in (_constants.ASSERT, _constants.ASSERT_NOT):
                children = [(arg[1], outer)]
            for child, times in children:
                why = walk(child, times)
                if why:
                    return why
        return None

    parsed = _parser.parse(source)
    why = walk(parsed, 1)
    if why is None and parsed.getwidth()[1] > MAX_MATCH:
        why = f"a match may be at most {MAX_MATCH} characters long: lower the repeats' bounds"
    return why


def _default() -> Checklist:
    from threadline.core.intake_default import DEFAULT_CHECKLIST_DATA

    return parse_checklist(DEFAULT_CHECKLIST_DATA)


DEFAULT_CHECKLIST = _default()
