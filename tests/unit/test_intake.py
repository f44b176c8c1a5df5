"""core.intake as tables: which facts the default checklist reads from customers'
sentences in English, German, Spanish and French (and which it must not read), how the
"ask for the missing" message is written, the bounds, and which edited checklists are
refused, with what message."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from threadline.core.intake import (
    DEFAULT_CHECKLIST,
    MAX_FACTS,
    MAX_PATTERN_LENGTH,
    MAX_PATTERNS,
    MAX_TEXT,
    MAX_VALUE,
    ChecklistError,
    ask_text,
    extract,
    parse_checklist,
)
from threadline.core.intake_default import DEFAULT_CHECKLIST_DATA
from threadline.core.language import guess_language

# (category, the customer's text, the facts found)
FOUND: list[tuple[str, str, dict[str, str]]] = [
    # billing
    (
        "billing",
        "Hi, I was charged twice for order number 48213. The name on the account is Ana Lima.",
        {"order_number": "48213", "account_name": "Ana Lima"},
    ),
    (
        "billing",
        "Hallo, Rechnungsnummer: RE-2024-0042, Kontoinhaber: Jürgen Müller. Karte endet auf 4242",
        {"order_number": "RE-2024-0042", "account_name": "Jürgen Müller", "card_last4": "4242"},
    ),
    (
        "billing",
        "Hola, mi pedido es el 55102 y está a nombre de María José García",
        {"order_number": "55102", "account_name": "María José García"},
    ),
    (
        "billing",
        "Bonjour, numéro de commande : FR-2231, au nom de Jean Dupont, carte se terminant par 1234",
        {"order_number": "FR-2231", "account_name": "Jean Dupont", "card_last4": "1234"},
    ),
    (
        "billing",
        "My invoice #INV-7781 is wrong, card **** 4242",
        {"order_number": "INV-7781", "card_last4": "4242"},
    ),
    ("billing", "Bestellung Nr. 100234 wurde doppelt abgebucht", {"order_number": "100234"}),
    ("billing", "Factura nº F-2024-118 incorrecta", {"order_number": "F-2024-118"}),
    ("billing", "Facture n° 2024-118 en double", {"order_number": "2024-118"}),
    # amounts, dates and counts are not order numbers
    ("billing", "I paid 49.99 on 12/03/2024, please refund", {}),
    ("billing", "I ordered 3 items and the order of 1500 euros was billed twice", {}),
    ("billing", "invoice dated 2024-03-12", {}),
    # logistics
    (
        "logistics",
        "Where is my order #A-10023? Tracking number 1Z999AA10123456784, "
        "address: 12 Main Street, Springfield",
        {
            "order_number": "A-10023",
            "tracking_number": "1Z999AA10123456784",
            "address": "12 Main Street, Springfield",
        },
    ),
    (
        "logistics",
        "Meine Bestellnummer ist 77812, Sendungsnummer 00340434161234567890. PLZ 10115",
        {"order_number": "77812", "tracking_number": "00340434161234567890", "address": "10115"},
    ),
    (
        "logistics",
        "Mi pedido 99123 no ha llegado, código postal 28001",
        {"order_number": "99123", "address": "28001"},
    ),
    (
        "logistics",
        "Ma commande 4512 n'est pas arrivée. J'habite au 12 rue de la Paix, 75002 Paris",
        {"order_number": "4512", "address": "12 rue de la Paix"},
    ),
    ("logistics", "Please send it to SW1A 1AA", {"address": "SW1A 1AA"}),
    ("logistics", "Lieferung bitte an Hauptstraße 5", {"address": "Hauptstraße 5"}),
    # technical
    (
        "technical",
        "The app keeps crashing on my iPhone 14 Pro since version 3.2.1",
        {
            "device": "iPhone 14 Pro",
            "error": "The app keeps crashing on my iPhone 14 Pro since version 3.2.1",
            "app_version": "3.2.1",
        },
    ),
    (
        "technical",
        "Fehlermeldung: Verbindung fehlgeschlagen. Gerät: Samsung Galaxy S22",
        {"device": "Samsung Galaxy S22", "error": "Verbindung fehlgeschlagen"},
    ),
    (
        "technical",
        "Error: could not reach api.example.com. Sorry!",
        {"error": "could not reach api.example.com"},
    ),
    (
        "technical",
        "Sur mon iPad, ça dit « Session expirée », version 2.4",
        {"device": "iPad", "error": "Session expirée", "app_version": "2.4"},
    ),
    (
        "technical",
        "I get error code E42 in the app v4.1.0 on Windows 11",
        {"device": "Windows 11", "error": "E42", "app_version": "4.1.0"},
    ),
    # sales
    (
        "sales",
        "We're interested in the Business plan for a team of 25",
        {"product": "Business plan", "company_size": "25"},
    ),
    (
        "sales",
        "Wir interessieren uns für das Pro-Paket, wir sind 40 Mitarbeiter",
        {"product": "Pro-Paket", "company_size": "40"},
    ),
    (
        "sales",
        "Estamos interesados en el plan Empresa, somos 30 personas",
        {"product": "plan Empresa", "company_size": "30"},
    ),
    (
        "sales",
        "Nous sommes intéressés par la formule Pro pour 15 salariés",
        {"product": "formule Pro", "company_size": "15"},
    ),
    # other asks for nothing
    ("other", "My order number is 48213", {}),
]


@pytest.mark.parametrize(("category", "text", "found"), FOUND)
def test_the_default_checklist_reads_facts_where_customers_name_them(
    category: str, text: str, found: dict[str, str]
) -> None:
    assert extract(DEFAULT_CHECKLIST, category, [text]).found == found


def test_missing_lists_the_required_facts_not_found_in_the_checklists_order() -> None:
    intake = extract(DEFAULT_CHECKLIST, "billing", ["card ending in 4242, please help"])
    assert intake.found == {"card_last4": "4242"}
    assert intake.missing == ["order_number", "account_name"]  # the card is optional


def test_the_newest_message_wins_when_a_customer_corrects_a_fact() -> None:
    texts = ["my order number is 11111", "sorry, wrong one: order number 22222"]
    assert extract(DEFAULT_CHECKLIST, "logistics", texts).found["order_number"] == "22222"
    texts = ["order 33333, order 44444 I mean", "thanks"]
    assert extract(DEFAULT_CHECKLIST, "logistics", texts).found["order_number"] == "44444"


def test_an_unknown_or_missing_category_is_other_and_asks_for_nothing() -> None:
    for category in (None, "nonsense"):
        intake = extract(DEFAULT_CHECKLIST, category, ["order number 48213"])
        assert (intake.category, intake.found, intake.missing) == ("other", {}, [])


def test_only_max_text_characters_are_read_newest_first() -> None:
    old = "order number 48213"
    filler = "x" * MAX_TEXT
    assert extract(DEFAULT_CHECKLIST, "logistics", [old, filler]).found == {}
    assert extract(DEFAULT_CHECKLIST, "logistics", [filler + " " + old]).found == {}
    assert extract(DEFAULT_CHECKLIST, "logistics", [old + " " + filler]).found == {
        "order_number": "48213"
    }


def test_a_found_value_is_bounded_and_its_spaces_collapsed() -> None:
    text = "address: " + "Long   Road " * 40
    value = extract(DEFAULT_CHECKLIST, "logistics", [text]).found["address"]
    assert len(value) <= MAX_VALUE
    assert "  " not in value


# (language, missing keys, the message)
ASKS = [
    (
        "en",
        "Hi, I was charged twice.",
        "To look into this, could you send us your order or invoice number "
        "and the name on the account?",
    ),
    (
        "de",
        "Hallo, ich wurde doppelt belastet und das ist nicht richtig.",
        "Damit wir uns das ansehen können, senden Sie uns bitte Ihre Bestell- oder "
        "Rechnungsnummer und den Namen, auf den das Konto läuft.",
    ),
    (
        "es",
        "Hola, me cobraron dos veces y no es la primera vez.",
        "Para revisarlo, ¿podría enviarnos su número de pedido o de factura y el nombre "
        "del titular de la cuenta?",
    ),
    (
        "fr",
        "Bonjour, je suis débité deux fois et je ne comprends pas.",
        "Pour que nous puissions regarder cela, pourriez-vous nous envoyer votre numéro de "
        "commande ou de facture et le nom du titulaire du compte ?",
    ),
]


@pytest.mark.parametrize(("language", "text", "message"), ASKS)
def test_the_ask_names_what_is_missing_in_the_customers_language(
    language: str, text: str, message: str
) -> None:
    assert guess_language([text]) == language
    intake = extract(DEFAULT_CHECKLIST, "billing", [text])
    assert ask_text(DEFAULT_CHECKLIST, intake, guess_language([text])) == message


def test_the_ask_is_english_when_the_language_is_unknown_and_none_when_nothing_is_missing() -> None:
    intake = extract(DEFAULT_CHECKLIST, "logistics", ["order 48213"])
    assert ask_text(DEFAULT_CHECKLIST, intake, None) == (
        "To look into this, could you send us the delivery address or postcode?"
    )
    assert guess_language(["ok"]) is None
    done = extract(DEFAULT_CHECKLIST, "logistics", ["order 48213, PLZ 10115"])
    assert ask_text(DEFAULT_CHECKLIST, done, "en") is None


def test_three_missing_facts_are_listed_with_commas() -> None:
    checklist = parse_checklist(
        {
            "sales": {
                "facts": [
                    {"key": k, "label": k, "ask": f"your {k}", "patterns": [k + r"=(\d{1,6})"]}
                    for k in ("a", "b", "c")
                ],
                "template": "Could you send {missing}?",
            }
        }
    )
    intake = extract(checklist, "sales", ["hello"])
    assert ask_text(checklist, intake, "de") == "Could you send your a, your b and your c?"


def _with(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(DEFAULT_CHECKLIST_DATA)
    change(data)
    return data


def _fact(**over: Any) -> dict[str, Any]:
    return {"key": "order", "label": "Order", "ask": "your order", "patterns": [r"(\d{4})"], **over}


REFUSED: list[tuple[object, str]] = [
    ([], "a checklist is an object"),
    ({"refunds": {}}, "unknown category 'refunds'"),
    ({"billing": {"facts": [], "extra": 1}}, "billing: unknown field 'extra'"),
    ({"billing": {"facts": {}}}, "billing: 'facts' is a list"),
    ({"billing": {"facts": [_fact(key="Order No")], "template": "{missing}"}}, "'key' is 1 to 40"),
    (
        {"billing": {"facts": [_fact(), _fact()], "template": "{missing}"}},
        "the key 'order' is used twice",
    ),
    (
        {"billing": {"facts": [_fact(patterns=["(unclosed"])], "template": "{missing}"}},
        "not a regular expression",
    ),
    (
        {"billing": {"facts": [_fact(patterns=["(a+)+$"])], "template": "{missing}"}},
        "every repeat needs a bound",
    ),
    (
        {"billing": {"facts": [_fact(patterns=[r"(\w+\s?)*x"])], "template": "{missing}"}},
        "every repeat needs a bound",
    ),
    (
        {"billing": {"facts": [_fact(patterns=["a*"])], "template": "{missing}"}},
        "matches an empty text",
    ),
    (
        {"billing": {"facts": [_fact(patterns=[r"(a{1,2}){1,30}b"])], "template": "{missing}"}},
        "a repeat inside a repeat",
    ),
    (
        {"billing": {"facts": [_fact(patterns=[r"(?=\w+)x"])], "template": "{missing}"}},
        "every repeat needs a bound",
    ),
    (
        {"billing": {"facts": [_fact(patterns=[r"\w{1,200}\s{1,200}"])], "template": "{missing}"}},
        "a match may be at most 300 characters",
    ),
    (
        {"billing": {"facts": [_fact(patterns=[])], "template": "{missing}"}},
        "'patterns' is a list of 1 to",
    ),
    (
        {
            "billing": {
                "facts": [_fact(patterns=["a"] * (MAX_PATTERNS + 1))],
                "template": "{missing}",
            }
        },
        f"at most {MAX_PATTERNS} patterns",
    ),
    (
        {
            "billing": {
                "facts": [_fact(patterns=["a" * (MAX_PATTERN_LENGTH + 1)])],
                "template": "{missing}",
            }
        },
        f"at most {MAX_PATTERN_LENGTH} characters",
    ),
    (
        {
            "billing": {
                "facts": [_fact(key=f"f{i}") for i in range(MAX_FACTS + 1)],
                "template": "{missing}",
            }
        },
        f"at most {MAX_FACTS} facts",
    ),
    (
        {"billing": {"facts": [_fact()], "template": "Send it"}},
        "template.en must contain {missing}",
    ),
    ({"billing": {"facts": [_fact()]}}, "billing: a 'template' asks for the missing facts"),
    (
        {"billing": {"facts": [_fact(ask={"it": "il suo ordine"})], "template": "{missing}"}},
        "unknown language 'it'",
    ),
    (
        {"billing": {"facts": [_fact(label="")], "template": "{missing}"}},
        "'label' is a non-empty text",
    ),
    (
        {"billing": {"facts": [_fact(optional="yes")], "template": "{missing}"}},
        "'optional' is true or false",
    ),
    (
        _with(lambda d: d["billing"]["facts"][0].update(patterns=["["])),
        "billing, order_number, pattern 1",
    ),
]


@pytest.mark.parametrize(("raw", "message"), REFUSED)
def test_a_bad_checklist_is_refused_with_a_message_that_says_where(
    raw: object, message: str
) -> None:
    with pytest.raises(ChecklistError, match=message.replace("{", r"\{").replace("(", r"\(")):
        parse_checklist(raw)


def test_too_many_facts_in_all_are_refused() -> None:
    many = {
        c: {"facts": [_fact(key=f"f{i}") for i in range(MAX_FACTS)], "template": "{missing}"}
        for c in ("sales", "billing", "technical", "logistics")
    }
    with pytest.raises(ChecklistError, match="at most 30 facts"):
        parse_checklist(many)


def test_bounded_repeats_inside_a_few_repeats_are_accepted() -> None:
    # A name of up to four words, a version of up to four numbers: the shipped shapes.
    patterns = [
        r"([A-Z][a-z]{1,20}(?:[ \t]{1,3}[A-Z][a-z]{1,20}){0,3})",
        r"(\d{1,4}(?:\.\d{1,4}){1,3})",
    ]
    parse_checklist(
        {"sales": {"facts": [_fact(patterns=patterns)], "template": {"en": "Send {missing}"}}}
    )


def test_a_long_run_of_one_character_is_read_without_rescanning_it() -> None:
    """The shape the bounds exist for: a run of the characters an unbounded repeat takes
    ("xxxx…" before a card's digits). Bounded, the run is read once per pattern."""
    for text in ("x" * MAX_TEXT, "*" * MAX_TEXT, "Address: " + "y" * MAX_TEXT, "1-" * MAX_TEXT):
        for category in ("billing", "logistics", "technical", "sales"):
            assert extract(DEFAULT_CHECKLIST, category, [text]).category == category


def test_a_parsed_checklist_reads_back_as_what_it_was_given() -> None:
    again = parse_checklist(DEFAULT_CHECKLIST.as_mapping())
    assert again.as_mapping() == DEFAULT_CHECKLIST.as_mapping()
    assert again.as_mapping()["other"] == {"facts": [], "template": {}}
