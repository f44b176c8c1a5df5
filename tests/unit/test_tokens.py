"""Signed tokens: what we signed comes back, anything else is None, never an error."""

from __future__ import annotations

import pytest

from threadline.core.tokens import sign_id, sign_until, verify_id, verify_until

SECRET = "test-secret"


def test_an_id_token_round_trips_and_ignores_case() -> None:
    token = sign_id("reply", 42, SECRET)
    assert verify_id("reply", token, SECRET) == 42
    assert verify_id("reply", token.upper(), SECRET) == 42
    assert verify_id("bounce", token, SECRET) is None


@pytest.mark.parametrize("token", ["²." + "0" * 12, "1.ééééééééééé", "", ".", "1", "x.y"])
def test_a_hostile_id_token_is_none(token: str) -> None:
    assert verify_id("reply", token, SECRET) is None


def test_an_expiring_token_works_until_its_time() -> None:
    token = sign_until("media", 7, 1_000, SECRET)
    assert verify_until("media", token, 999, SECRET) == 7
    assert verify_until("media", token, 1_000, SECRET) is None
    assert verify_until("reply", token, 999, SECRET) is None
    assert verify_until("media", token, 999, "another-secret") is None


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.replace("7.", "8.", 1),  # another file
        lambda t: t.replace(".1000.", ".9000."),  # a longer life
        lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"),
        lambda t: t.upper(),
        lambda t: t + ".1",
        lambda t: "²" + t[1:],
        lambda t: t[:-2] + "é",
    ],
)
def test_a_changed_expiring_token_is_none(change: object) -> None:
    token = sign_until("media", 7, 1_000, SECRET)
    assert callable(change)
    assert verify_until("media", change(token), 0, SECRET) is None
