"""The triage lexicon: keyword lists as data, checked, folded and compiled once.

An edited lexicon comes from an admin (or a file), so ``parse_lexicon`` treats it
as hostile: unknown keys, wrong types, too many or too long terms are refused
with a ``LexiconError`` that says which list and which term. A parsed lexicon is
compiled into one regular expression built from a trie of its terms, so a
message is scanned once, in C, however many terms there are (an alternation of
hundreds of plain words would be retried word by word at every position).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CATEGORIES",
    "GROUPS",
    "MAX_TERMS",
    "MAX_TERM_LENGTH",
    "Lexicon",
    "LexiconError",
    "fold",
    "parse_lexicon",
]

# The categories a lexicon can name. "other" is also what no term points to; its
# own terms (a complaint, opening hours) let it win over a word said in passing.
CATEGORIES = ("sales", "billing", "technical", "logistics", "other")
# The other lists: signals that are not a category.
GROUPS = ("urgent", "calm", "sensitive", "detail", "quick")
MAX_TERMS = 5000  # in the whole lexicon
MAX_TERM_LENGTH = 60  # characters, after folding
_MIN_TERM_LENGTH = 2

_MARKS = re.compile(r"[\u0300-\u036f]+")
_SPACES = re.compile(r"\s+")
# Letters and digits of any script, and the few joiners words are written with.
_TERM = re.compile(r"[\w][\w '&./-]*\*?")


class LexiconError(ValueError):
    """An edited lexicon that cannot be used, and why."""


def fold(text: str) -> str:
    """Lower case without accents: 'Rückerstattung' and 'ruckerstattung' are one word,
    as are 'REMBOURSÉ' and 'rembourse'. 'ß' becomes 'ss'."""
    text = text.casefold()
    if text.isascii():
        return text
    return _MARKS.sub("", unicodedata.normalize("NFKD", text))


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Checked term lists. ``labels`` maps each folded term (a trailing ``*`` marks a
    prefix: 'refund*' also matches 'refunded') to the lists it is in."""

    terms: Mapping[str, tuple[str, ...]]  # list name -> its terms, as given (folded)
    labels: Mapping[str, tuple[str, ...]]
    pattern: re.Pattern[str] = field(repr=False, compare=False)
    prefixes: Mapping[str, tuple[str, ...]] = field(repr=False, compare=False)
    longest_prefix: int = field(repr=False, compare=False)

    def lookup(self, matched: str) -> tuple[str, tuple[str, ...]]:
        """The term that produced ``matched`` (a match of ``pattern``) and its labels."""
        key = _SPACES.sub(" ", matched) if " " in matched or "\n" in matched else matched
        labels = self.labels.get(key)
        if labels is not None:
            return key, labels
        for end in range(min(len(key), self.longest_prefix), 0, -1):
            found = self.prefixes.get(key[:end])
            if found is not None:
                return key[:end] + "*", found
        return key, ()  # unreachable for a match of our own pattern

    def as_mapping(self) -> dict[str, Any]:
        """The lexicon as ``parse_lexicon`` takes it (to show and edit it)."""
        cats = {c: list(self.terms.get(c, ())) for c in CATEGORIES}
        return {"categories": cats, **{g: list(self.terms.get(g, ())) for g in GROUPS}}


def parse_lexicon(raw: object) -> Lexicon:
    """A checked, compiled lexicon from a mapping like::

        {"categories": {"billing": ["card declined", "refund*"], ...},
         "urgent": [...], "calm": [...], "sensitive": [...],
         "detail": [...], "quick": [...]}

    Every list is optional. Raises ``LexiconError`` with a clear message."""
    if not isinstance(raw, Mapping):
        raise LexiconError("a lexicon is an object of term lists")
    unknown = sorted(str(k) for k in raw if k not in ("categories", *GROUPS))
    if unknown:
        raise LexiconError(f"unknown list {unknown[0]!r}; known: categories, {', '.join(GROUPS)}")
    lists: dict[str, tuple[str, ...]] = {}
    cats = raw.get("categories", {})
    if not isinstance(cats, Mapping):
        raise LexiconError("'categories' is an object: category name -> terms")
    for name in cats:
        if name not in CATEGORIES:
            raise LexiconError(
                f"unknown category {str(name)[:40]!r}; known: {', '.join(CATEGORIES)}"
            )
    for name in CATEGORIES:
        lists[name] = _terms(name, cats.get(name, []))
    for name in GROUPS:
        lists[name] = _terms(name, raw.get(name, []))
    total = sum(len(t) for t in lists.values())
    if total > MAX_TERMS:
        raise LexiconError(f"a lexicon has at most {MAX_TERMS} terms ({total} given)")
    return _compile(lists)


def _terms(name: str, raw: object) -> tuple[str, ...]:
    if not isinstance(raw, list | tuple):
        raise LexiconError(f"{name!r} is a list of terms")
    if len(raw) > MAX_TERMS:
        raise LexiconError(f"{name!r}: at most {MAX_TERMS} terms")
    out: dict[str, None] = {}
    for i, term in enumerate(raw):
        if not isinstance(term, str):
            raise LexiconError(f"{name!r}, term {i + 1}: a term is a string")
        folded = _SPACES.sub(" ", fold(term)).strip()
        if len(folded) > MAX_TERM_LENGTH:
            raise LexiconError(
                f"{name!r}, term {i + 1}: at most {MAX_TERM_LENGTH} characters ({term[:20]!r}…)"
            )
        if len(folded.rstrip("*")) < _MIN_TERM_LENGTH:
            raise LexiconError(
                f"{name!r}, term {i + 1}: at least {_MIN_TERM_LENGTH} characters ({term!r})"
            )
        if not _TERM.fullmatch(folded):
            raise LexiconError(
                f"{name!r}, term {i + 1} ({term[:40]!r}): letters, digits, spaces and "
                "' & . / - only, starting with a letter or digit, '*' only at the end"
            )
        out[folded] = None
    return tuple(out)


def _compile(lists: dict[str, tuple[str, ...]]) -> Lexicon:
    labels: dict[str, list[str]] = {}
    prefixes: dict[str, list[str]] = {}
    for name, terms in lists.items():
        for term in terms:
            if term.endswith("*"):
                prefixes.setdefault(term[:-1], []).append(name)
            else:
                labels.setdefault(term, []).append(name)
    for term in labels:
        labels[term] = _inherit(term, labels, prefixes)
    # a category first, then the signals, whatever list a term was found in first
    rank = {name: i for i, name in enumerate((*CATEGORIES, *GROUPS))}
    for found in (labels, prefixes):
        for names in found.values():
            names.sort(key=rank.__getitem__)
    trie: dict[str, Any] = {}
    for term in [*labels, *(p + "*" for p in prefixes)]:
        node = trie
        for ch in term.removesuffix("*"):
            node = node.setdefault(ch, {})
        # "" ends a whole word, "*" a prefix; a prefix also covers the whole word.
        node["*" if term.endswith("*") else ""] = True
    body = _emit(trie) if trie else "(?!)"
    return Lexicon(
        terms=lists,
        labels={k: tuple(v) for k, v in labels.items()},
        pattern=re.compile(r"(?<!\w)" + body),
        prefixes={k: tuple(v) for k, v in prefixes.items()},
        longest_prefix=max((len(p) for p in prefixes), default=0),
    )


def _inherit(term: str, labels: dict[str, list[str]], prefixes: dict[str, list[str]]) -> list[str]:
    """A term's labels plus those of the terms inside it: only the longest term at a
    position is matched, so 'le site est en panne' must also say what 'en panne' says.
    A calm term ('not urgent') does not take 'urgent' from the word it negates."""
    out = dict.fromkeys(labels[term])
    words = term.split(" ")
    starts = [sum(len(w) + 1 for w in words[:i]) for i in range(len(words))]
    for i in starts:
        rest = term[i:]
        for end in range(1, len(rest) + 1):
            if rest[:end] in prefixes:
                out.update(dict.fromkeys(prefixes[rest[:end]]))
            if (end == len(rest) or rest[end] == " ") and rest[:end] != term:
                out.update(dict.fromkeys(labels.get(rest[:end], ())))
    if "calm" in out:
        out.pop("urgent", None)
    return list(out)


def _emit(node: dict[str, Any]) -> str:
    """The regex for a trie node: longer terms are tried before the term that ends here,
    so 'card declined' wins over 'card'."""
    branches = [
        (r"\s+" if ch == " " else re.escape(ch)) + _emit(child)
        for ch, child in sorted(node.items())
        if ch not in ("", "*")
    ]
    if "*" in node:
        branches.append(r"\w*")
    elif "" in node:
        branches.append(r"(?!\w)")
    if len(branches) == 1:
        return branches[0]
    return "(?:" + "|".join(branches) + ")"
