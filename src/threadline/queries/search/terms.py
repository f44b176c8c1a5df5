"""What the text typed in the search box means, and how a hit shows it.

Names and subjects match word by word: every word typed must begin a word of
the name or subject, ignoring case and accents ("sou" finds "Ana Souza", "ana"
does not find "Mariana"). The database only narrows the rows (``LIKE '%sou%'``,
which an index can serve); ``begins_words`` makes the decision, in Python, so it
is the same on SQLite and PostgreSQL and agrees with the highlighting.

Highlights are ``(text, is_match)`` segments, never markup: the template escapes
every piece, so nothing a customer typed can become HTML.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "MAX_TEXT",
    "MAX_WORDS",
    "Segments",
    "Terms",
    "begins_words",
    "fold",
    "like_patterns",
    "parse",
    "segments",
]

MAX_TEXT = 200  # characters of the query read; a name or an address is far shorter
MAX_WORDS = 8  # each word is one more LIKE per row on the slow path

_WORD = re.compile(r"\w+")
Segments = list[tuple[str, bool]]
_SHORT_WORD_AFTER = (" ", "-", "'")


@dataclass(frozen=True, slots=True)
class Terms:
    text: str  # the query, stripped and cut to MAX_TEXT
    words: tuple[str, ...]  # as typed, at most MAX_WORDS
    folded: tuple[str, ...]  # each word folded (case and accents)
    starts: tuple[re.Pattern[str], ...]  # each folded word at the start of a word


def parse(text: str) -> Terms:
    text = text.strip()[:MAX_TEXT]
    words = tuple(w for w in _WORD.findall(text)[:MAX_WORDS] if fold(w))
    folded = tuple(map(fold, words))
    return Terms(text, words, folded, tuple(re.compile(r"(?<!\w)" + re.escape(w)) for w in folded))


@functools.lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    decomposed = unicodedata.normalize("NFKD", ch)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _folded(text: str) -> tuple[str, list[int]]:
    """``fold(text)``, and for each of its characters the index it came from."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        f = ch if ch.isascii() and not ch.isupper() else _fold_char(ch)
        out.append(f)
        where.extend([i] * len(f))
    return "".join(out), where


def fold(text: str) -> str:
    """Lower case without accents: "Émile" and "emile" fold alike."""
    if text.isascii():
        return text.lower()  # most names and subjects: C speed
    return _folded(text)[0]


def like_patterns(terms: Terms) -> list[list[str]]:
    """For each word, ``LIKE`` patterns one of which every row it must find
    satisfies, on both databases: ASCII letters lower-cased (compare with
    ``lower(column)``), wildcards escaped with backslash, and any other character
    left to ``_``, since the databases do not fold case and accents as ``fold``
    does. A word of one or two letters is looked for where a word starts (the
    start, or after a space, hyphen or apostrophe): as a bare substring it is in
    most names, and each of those would be fetched only to be turned down."""
    out = []
    for word in terms.words:
        like = "".join(_like_char(ch) for ch in word)
        if len(word) > 2:
            out.append(["%" + like + "%"])
        else:
            out.append([like + "%", *(f"%{sep}{like}%" for sep in _SHORT_WORD_AFTER)])
    return out


def _like_char(ch: str) -> str:
    if not ch.isascii():
        return "_"
    return "\\" + ch if ch in "%_\\" else ch.lower()


def _pattern(folded: tuple[str, ...], whole: bool) -> re.Pattern[str] | None:
    if not folded:
        return None
    # Longest first, so "souza" wins over "sou" where both start at one place.
    alternatives = "|".join(re.escape(w) for w in sorted(set(folded), key=len, reverse=True))
    return re.compile(r"(?<!\w)(?:" + alternatives + ")" + (r"(?!\w)" if whole else ""))


def begins_words(value: str | None, terms: Terms) -> bool:
    """Every word of the query begins a word of ``value``."""
    if not value or not terms.starts:
        return False
    text = fold(value)
    return all(start.search(text) for start in terms.starts)


def segments(text: str | None, terms: Terms, *, whole_words: bool = False) -> Segments:
    """``text`` cut into pieces, each marked whether it is a match: a word of the
    query at the start of a word of the text (``whole_words``: the whole word,
    as full-text search matches)."""
    if not text:
        return []
    pattern = _pattern(terms.folded, whole_words)
    folded, where = _folded(text)
    spans: list[tuple[int, int]] = []
    if pattern is not None:
        for m in pattern.finditer(folded):
            if m.end() > m.start():
                start, end = where[m.start()], where[m.end() - 1] + 1
                while end < len(text) and unicodedata.combining(text[end]):
                    end += 1  # an accent typed as its own character stays with its letter
                if spans and start <= spans[-1][1]:
                    spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
                else:
                    spans.append((start, end))
    out: Segments = []
    at = 0
    for start, end in spans:
        if start > at:
            out.append((text[at:start], False))
        out.append((text[start:end], True))
        at = end
    if at < len(text):
        out.append((text[at:], False))
    return out
