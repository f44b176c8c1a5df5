"""core.triage.classify and core.lexicon.parse_lexicon as tables: what a message is
about, whether it is urgent or sensitive, where to answer it, and why; which edited
lexicons are refused, and with what message."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from threadline.core.lexicon import MAX_TERM_LENGTH, MAX_TERMS, fold
from threadline.core.model import Channel
from threadline.core.triage import (
    DEFAULT_LEXICON,
    MAX_SCAN,
    Category,
    LexiconError,
    classify,
    parse_lexicon,
    recommend_channel,
)

E, S, V, C, W = Channel.EMAIL, Channel.SMS, Channel.VOICE, Channel.CHAT, Channel.WHATSAPP

# (text, channel, category, urgent, sensitive)
CLASSIFY = [
    ("My card was declined at checkout", C, "billing", True, False),
    ("Meine Rechnung ist doppelt abgebucht worden", E, "billing", True, False),
    ("¿Dónde está mi pedido? No ha llegado", W, "logistics", True, False),
    ("Bonjour, le site est en panne depuis ce matin", E, "technical", True, False),
    ("Could you send a quote for 40 seats?", E, "sales", False, False),
    ("I forgot my password", C, "technical", False, True),
    ("Please cancel my subscription", E, "billing", True, False),
    ("Thanks!", S, "other", False, False),
    ("Where is my order? No rush at all", S, "logistics", False, False),
    ("Das ist nicht dringend, aber die Lieferung ist verspätet", E, "logistics", False, False),
    ("REMBOURSÉ ?", S, "billing", False, False),
    ("refunded twice, thanks", S, "billing", False, False),
    ("", S, "other", False, False),
]


@pytest.mark.parametrize(("text", "channel", "category", "urgent", "sensitive"), CLASSIFY)
def test_classify_finds_the_category_urgency_and_sensitivity(
    text: str, channel: Channel, category: str, urgent: bool, sensitive: bool
) -> None:
    decision = classify(text, channel)
    assert (decision.category, decision.urgent, decision.sensitive) == (
        Category(category),
        urgent,
        sensitive,
    )


def test_every_decision_says_which_terms_made_it() -> None:
    decision = classify("Hi, my card declined again", C)
    assert "matched 'card declined' → billing, urgent" in decision.reasons
    assert decision.reasons[-1] == "reply by voice: urgent"


def test_a_message_without_terms_says_so() -> None:
    assert classify("hello?", Channel.TELEGRAM).reasons == (
        "no category terms → other",
        "reply by telegram: where the customer wrote",
    )


def test_the_longer_term_wins_and_keeps_what_the_shorter_one_says() -> None:
    # 'en panne' (technical, urgent) inside the longer 'site est en panne'
    decision = classify("le site est en panne", E)
    assert decision.reasons[0] == "matched 'site est en panne' → technical, urgent"


def test_a_calm_word_overrides_urgency_and_says_so() -> None:
    decision = classify("payment failed last week, no rush, it went through now", E)
    assert not decision.urgent
    assert "not urgent: the customer says it can wait" in decision.reasons


def test_words_match_on_word_boundaries_only() -> None:
    # 'bill' is a term; 'billiards' and 'rebill' are not it
    assert classify("I love billiards", S).category is Category.OTHER
    assert "matched 'bill' → billing" in classify("the bill, please", S).reasons


def test_only_the_first_max_scan_characters_are_read() -> None:
    late = "x " * MAX_SCAN + "card declined"
    assert not classify(late, E).urgent
    assert classify("card declined " + "x " * MAX_SCAN, E).urgent


def test_reasons_are_bounded_however_many_terms_match() -> None:
    text = " ".join(DEFAULT_LEXICON.terms["billing"][:200]).replace("*", "")
    assert len(classify(text, E).reasons) <= 15


# (urgent, detail, quick, inbound, reachable, expected channel)
CHANNEL_MAP = [
    (True, False, False, E, None, V),
    (True, False, False, E, {E, S}, E),
    (True, False, False, Channel.INSTAGRAM, {Channel.INSTAGRAM}, Channel.INSTAGRAM),
    (False, True, False, S, None, E),
    (False, True, False, S, {S}, S),
    (False, False, True, E, None, S),
    (False, False, True, C, None, C),
    (False, False, True, E, {E, C}, C),
    (False, False, True, E, {E}, E),
    (False, False, False, W, None, W),
    (False, False, False, V, {V, S}, V),
    (False, False, False, Channel.MESSENGER, {E}, E),
    (False, False, False, E, set(), None),
]


@pytest.mark.parametrize(("urgent", "detail", "quick", "inbound", "reachable", "want"), CHANNEL_MAP)
def test_the_channel_map_never_picks_a_channel_the_customer_cannot_be_reached_on(
    urgent: bool,
    detail: bool,
    quick: bool,
    inbound: Channel,
    reachable: set[Channel] | None,
    want: Channel | None,
) -> None:
    got, why = recommend_channel(
        inbound, urgent=urgent, detail=detail, quick=quick, reachable=reachable
    )
    assert got == want
    assert why.startswith(f"reply by {want.value}") if want else why == "no channel to reply on"


def test_a_long_letter_is_answered_in_writing() -> None:
    letter = "Hello, I have a few questions about my setup. " * 40
    assert classify(letter, Channel.CHAT).channel is Channel.EMAIL


def test_fold_removes_case_and_accents() -> None:
    assert fold("RÜCKERSTATTUNG Ça Straße ñ") == "ruckerstattung ca strasse n"


def test_the_default_lexicon_reads_back_as_itself() -> None:
    again = parse_lexicon(DEFAULT_LEXICON.as_mapping())
    assert again == DEFAULT_LEXICON


def test_an_edited_lexicon_is_used() -> None:
    lexicon = parse_lexicon({"categories": {"sales": ["Flüssigkeit*"]}, "urgent": ["SOS"]})
    decision = classify("Ich brauche FLUSSIGKEITEN, sos", S, lexicon)
    assert (decision.category, decision.urgent) == (Category.SALES, True)
    assert decision.reasons[:2] == (
        "matched 'flussigkeit*' → sales",
        "matched 'sos' → urgent",
    )


def test_an_empty_lexicon_classifies_everything_as_other() -> None:
    assert classify("card declined", E, parse_lexicon({})).category is Category.OTHER


# (lexicon, the start of the error message)
BAD_LEXICONS: list[tuple[Any, str]] = [
    ([], "a lexicon is an object"),
    ({"urgnet": []}, "unknown list 'urgnet'"),
    ({"categories": []}, "'categories' is an object"),
    ({"categories": {"refunds": []}}, "unknown category 'refunds'"),
    ({"urgent": "asap"}, "'urgent' is a list of terms"),
    ({"urgent": [3]}, "'urgent', term 1: a term is a string"),
    ({"urgent": ["ok", "a"]}, "'urgent', term 2: at least 2 characters"),
    ({"calm": ["x" * (MAX_TERM_LENGTH + 1)]}, f"'calm', term 1: at most {MAX_TERM_LENGTH}"),
    ({"quick": ["(a|b)+"]}, "'quick', term 1 ('(a|b)+'): letters, digits"),
    ({"quick": ["ref*und"]}, "'quick', term 1 ('ref*und'): letters, digits"),
    ({"detail": ["*"]}, "'detail', term 1: at least 2 characters"),
    ({"urgent": [f"t{i}" for i in range(MAX_TERMS + 1)]}, f"'urgent': at most {MAX_TERMS}"),
    (
        {"urgent": [f"u{i}" for i in range(3000)], "calm": [f"c{i}" for i in range(3000)]},
        f"a lexicon has at most {MAX_TERMS} terms (6000 given)",
    ),
]


@pytest.mark.parametrize(("raw", "message"), BAD_LEXICONS)
def test_a_bad_lexicon_is_refused_with_a_clear_message(raw: Any, message: str) -> None:
    with pytest.raises(LexiconError) as caught:
        parse_lexicon(raw)
    assert str(caught.value).startswith(message)


@given(st.text(max_size=3000), st.sampled_from(list(Channel)))
def test_classify_never_raises_on_any_text(text: str, channel: Channel) -> None:
    decision = classify(text, channel)
    assert decision.reasons


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=80),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=30,
)
_GROUPS = st.sampled_from(["urgent", "calm", "sensitive", "detail", "quick"])


@given(
    st.dictionaries(_GROUPS, st.lists(st.text(max_size=70), max_size=8))
    | st.dictionaries(st.text(max_size=12), _JSON)
    | _JSON
)
def test_parse_lexicon_raises_only_lexicon_error(raw: Any) -> None:
    try:
        lexicon = parse_lexicon(raw)
    except LexiconError:
        return
    classify("any text at all", Channel.SMS, lexicon)
