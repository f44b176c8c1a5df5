"""core.attributes: what an agent may store about a customer."""

from __future__ import annotations

import pytest

from threadline.core.attributes import (
    MAX_CHANGES,
    MAX_KEYS,
    InvalidAttributes,
    apply_changes,
    check_name,
)


def test_a_value_sets_its_key_and_none_removes_it() -> None:
    current = {"plan": "free", "city": "Lisbon"}
    assert apply_changes(current, {"plan": "pro", "city": None, "account id": "A-1"}) == {
        "plan": "pro",
        "account id": "A-1",
    }
    assert current == {"plan": "free", "city": "Lisbon"}  # not changed in place
    assert apply_changes(current, {"missing": None}) == current


@pytest.mark.parametrize(
    "key",
    ["", "x" * 65, "a/b", "a:b", "<b>", " plan", "plan ", "plan\n", "a\x00"],
)
def test_keys_are_short_plain_words(key: str) -> None:
    with pytest.raises(InvalidAttributes):
        apply_changes({}, {key: "v"})


@pytest.mark.parametrize("key", ["plan", "x" * 64, "account id", "v1.2-beta_3", "país"])
def test_keys_that_are_accepted(key: str) -> None:
    assert apply_changes({}, {key: "v"}) == {key: "v"}


@pytest.mark.parametrize("value", ["x" * 501, "a\x00b", "bell\x07", "\ud800", "esc\x1b[31m"])
def test_values_are_bounded_printable_text(value: str) -> None:
    with pytest.raises(InvalidAttributes):
        apply_changes({}, {"note": value})


def test_values_may_hold_lines_and_markup_as_text() -> None:
    value = "first line\n\tsecond <b>line</b>"
    assert apply_changes({}, {"note": value}) == {"note": value}
    assert apply_changes({}, {"note": "x" * 500})["note"] == "x" * 500


def test_a_customer_has_at_most_fifty_attributes() -> None:
    full = {f"k{i}": "v" for i in range(MAX_KEYS)}
    with pytest.raises(InvalidAttributes):
        apply_changes(full, {"one more": "v"})
    # replacing one keeps the count
    assert len(apply_changes(full, {"k0": None, "new": "v"})) == MAX_KEYS


def test_the_changes_themselves_are_bounded() -> None:
    with pytest.raises(InvalidAttributes):
        apply_changes({}, {f"k{i}": None for i in range(MAX_CHANGES + 1)})


def test_names_are_trimmed_single_lines() -> None:
    assert check_name("  Ana Souza ") == "Ana Souza"
    assert check_name("x" * 200) == "x" * 200
    for bad in ("", "   ", "x" * 201, "Ana\nSouza", "Ana\x00"):
        with pytest.raises(InvalidAttributes):
            check_name(bad)
