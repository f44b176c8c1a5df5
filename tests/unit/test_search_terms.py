"""queries.search.terms: what the search box's words match, and how a hit is marked."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from threadline.queries.search.terms import (
    MAX_TEXT,
    MAX_WORDS,
    begins_words,
    fold,
    like_patterns,
    parse,
    segments,
)


@pytest.mark.parametrize(
    ("query", "name", "found"),
    [
        ("ana", "Ana Souza", True),
        ("sou", "Ana Souza", True),
        ("souza ana", "Ana Souza", True),
        ("ANA", "ana souza", True),
        ("ana", "Mariana Costa", False),  # inside a word is not a match
        ("ana silva", "Ana Souza", False),  # every word must match
        ("emile", "Émile Zola", True),  # accents fold both ways
        ("ÉMILE", "emile zola", True),
        ("brien", "Conor O'Brien", True),
        ("jane", "Mary-Jane Watson", True),
        ("strasse", "Hans Straße", True),
        ("4417", "Order #4417 late", True),
        ("", "Ana", False),
        ("ana", None, False),
    ],
)
def test_every_word_must_begin_a_word_of_the_name(
    query: str, name: str | None, found: bool
) -> None:
    assert begins_words(name, parse(query)) is found


def test_the_query_is_bounded_in_length_and_words() -> None:
    terms = parse("word " * 100)
    assert len(terms.text) <= MAX_TEXT
    assert len(terms.words) == MAX_WORDS
    assert parse("x" * 10_000).text == "x" * MAX_TEXT


def test_punctuation_and_operators_are_not_words() -> None:
    assert parse('"ana" OR (souza)* -x').words == ("ana", "OR", "souza", "x")
    assert parse("!!! ()").words == ()


def test_segments_mark_each_match_and_keep_every_character() -> None:
    terms = parse("ana sou")
    got = segments("Ana Souza & Mariana", terms)
    assert got == [("Ana", True), (" ", False), ("Sou", True), ("za & Mariana", False)]
    assert "".join(text for text, _ in got) == "Ana Souza & Mariana"


def test_segments_hold_markup_as_plain_text_for_the_template_to_escape() -> None:
    got = segments("<b>ana</b> <script>", parse("ana script"))
    assert ("ana", True) in got
    assert ("script", True) in got
    assert "".join(t for t, _ in got) == "<b>ana</b> <script>"


def test_segments_map_folded_matches_back_to_the_original_letters() -> None:
    assert segments("Café Émile", parse("cafe emile")) == [
        ("Café", True),
        (" ", False),
        ("Émile", True),
    ]
    # an accent typed as its own code point stays with its letter
    assert segments("Jose\u0301 Silva", parse("jose")) == [("Jose\u0301", True), (" Silva", False)]
    assert segments("Straße 5", parse("strasse")) == [("Straße", True), (" 5", False)]


def test_whole_word_segments_skip_longer_words() -> None:
    assert segments("kettles and a kettle", parse("kettle"), whole_words=True) == [
        ("kettles and a ", False),
        ("kettle", True),
    ]


def test_segments_of_nothing() -> None:
    assert segments(None, parse("ana")) == []
    assert segments("Ana", parse("")) == [("Ana", False)]


def test_like_patterns_escape_wildcards_and_leave_other_letters_to_the_database() -> None:
    assert like_patterns(parse("50%off a_b%")) == [
        ["50%", "% 50%", "%-50%", "%'50%"],
        ["%off%"],
        ["%a\\_b%"],
    ]
    assert like_patterns(parse("Émile")) == [["%_mile%"]]
    # a short word is looked for at the start of a word only
    assert like_patterns(parse("Jo")) == [["jo%", "% jo%", "%-jo%", "%'jo%"]]


def _like(pattern: str, value: str) -> bool:
    """SQL LIKE with backslash escapes, over ``lower(value)`` as both databases do for ASCII."""
    rx = ""
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 1
            rx += re.escape(pattern[i])
        elif ch == "%":
            rx += ".*"
        elif ch == "_":
            rx += "."
        else:
            rx += re.escape(ch)
        i += 1
    lowered = "".join(c.lower() if c.isascii() else c for c in value)
    return re.fullmatch(rx, lowered, re.DOTALL) is not None


_ASCII_NAMES = st.text(st.sampled_from("abeAB -'o"), max_size=12)
_QUERIES = st.text(st.sampled_from("abeAB éÉ-'oß"), max_size=8)
_NAMES = st.text(st.sampled_from("abeAB éÉ-'oß"), max_size=12)


def _lets_through(query: str, name: str) -> bool:
    return all(any(_like(p, name) for p in word) for word in like_patterns(parse(query)))


@given(query=_QUERIES, name=_ASCII_NAMES)
def test_the_database_filter_never_drops_an_ascii_name_that_matches(query: str, name: str) -> None:
    # The database narrows with LIKE, Python decides: a name Python accepts must
    # get through LIKE, or it could never be found.
    if begins_words(name, parse(query)):
        assert _lets_through(query, name)


@given(name=_NAMES, data=st.data())
def test_the_database_filter_never_drops_a_name_typed_as_written(
    name: str, data: st.DataObject
) -> None:
    # With accents, the query must carry them as the name does ("emile" does not
    # reach a stored "Émile": the databases cannot fold it; see the module).
    words = [w for w in re.findall(r"\w+", name)]
    if not words:
        return
    picked = data.draw(st.lists(st.sampled_from(words), min_size=1, max_size=3))
    query = " ".join(w[: data.draw(st.integers(1, len(w)))] for w in picked)
    assert begins_words(name, parse(query))
    assert _lets_through(query, name)


def test_fold_drops_case_and_accents() -> None:
    assert fold("ÉMILE Zola") == "emile zola"
    assert fold("São Paulo") == "sao paulo"
    assert fold("Straße") == "strasse"
