"""Hypothesis strategies that break real payloads the way the world does.

Each starts from a valid recorded payload and changes its structure: a field
dropped, or replaced by another JSON type, a huge, negative or absurd number or
timestamp, bad unicode, deep nesting. Random bytes alone would almost never get
past the JSON decoder to the code that trusts a field's type.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from hypothesis import settings
from hypothesis import strategies as st

__all__ = ["budget", "mutated_form", "mutated_json", "nasty_text"]

Path = tuple[Any, ...]

ABSURD_NUMBERS = [
    0,
    -1,
    2**31,
    2**53 + 1,
    2**63,
    -(2**63) - 1,
    10**30,
    -(10**30),
    10**11,
    10**13,
    253402300800,  # 10000-01-01 in Unix seconds
    -62135596801,  # before year 1
    10**17,  # past time_t on this platform: OSError from datetime
    -(2**62),
    2**64 - 1,
    1e308,
    -1e308,
    0.5,
    -0.0,
]
nasty_text = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "\ud800",  # a lone surrogate
            "\udfff tail",
            "💥" * 50,
            "x" * 5000,
            "9" * 5000,  # int() of this refuses: over the digit limit
            "-5",
            "1e400",
            "NaN",
            "+",
            "@",
            "a@b@c",
            "+1 415 555 0101",
            "anonymous",
            "\u202etxt.exe",
            "١٢٣٤",  # Arabic-Indic digits: isdigit() says yes
        ]
    ),
    st.text(max_size=40),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(ABSURD_NUMBERS),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    nasty_text,
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


# What a field is replaced with, weighted toward what breaks code that trusts a
# type: numbers no timestamp or id column can hold, then text, then structure.
hostile_values = st.one_of(
    st.sampled_from(ABSURD_NUMBERS),
    st.sampled_from(ABSURD_NUMBERS),
    nasty_text,
    # copied: a later mutation must not change the strategy's own sample
    st.sampled_from([None, True, "", [], {}, [1], {"a": 1}]).map(copy.deepcopy),
    json_values,
)
# Deeper than any parser allows (64) and than str() or a recursive walk survives
# (~1000): written into the JSON text after dumping (json.dumps would recurse too).
_DEEP = "__deep_{}__"
deep_values = st.integers(min_value=60, max_value=3000).map(_DEEP.format)


def _deepen(text: str) -> str:
    return re.sub(r'"__deep_(\d+)__"', lambda m: "[" * int(m[1]) + "1" + "]" * int(m[1]), text)


def _paths(doc: Any, prefix: Path = ()) -> Iterator[Path]:
    yield prefix
    if len(prefix) > 30:  # inside an inserted deep value: nothing left to learn there
        return
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from _paths(value, (*prefix, index))


def _parent(doc: Any, path: Path) -> Any:
    for step in path[:-1]:
        doc = doc[step]
    return doc


@st.composite
def mutated_json(
    draw: st.DrawFn,
    seed: Any,
    max_changes: int = 4,
    broken_bytes: bool = True,
    deep: bool = True,
) -> bytes:
    """``seed`` (a decoded recorded payload) with 1..max_changes structural changes,
    some of them (``deep``) nesting past 60 levels, and now and then
    (``broken_bytes``) a byte that is not UTF-8."""
    doc = copy.deepcopy(seed)
    for _ in range(draw(st.integers(1, max_changes))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        # Mostly leaves: the scalars a parser turns into ids, times and text.
        leaves = [p for p in paths if not isinstance(_parent(doc, p)[p[-1]], dict | list)]
        pool = leaves if leaves and draw(st.integers(0, 3)) else paths
        path = draw(st.sampled_from(pool))
        parent = _parent(doc, path)
        ops = ["replace", "replace", "replace", "delete", "wrap", "add"] + (
            ["deep"] if deep else []
        )
        op = draw(st.sampled_from(ops))
        if op == "delete":
            del parent[path[-1]]
        elif op == "replace":
            parent[path[-1]] = draw(hostile_values)
        elif op == "deep":
            parent[path[-1]] = draw(deep_values)
        elif op == "wrap":  # the right value inside the wrong container
            parent[path[-1]] = draw(st.sampled_from([[parent[path[-1]]], {"v": parent[path[-1]]}]))
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=12))] = draw(hostile_values)
    text = json.dumps(doc)  # escapes lone surrogates as \ud800, as a hostile sender can
    if "__deep_" in text:
        text = _deepen(text)
    raw = text.encode()
    if broken_bytes and draw(st.integers(0, 9)) == 0:
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\x00", b""])) + raw[at:]
    return raw


@st.composite
def mutated_form(draw: st.DrawFn, seed: dict[str, str], max_changes: int = 4) -> dict[str, str]:
    """A recorded form (Twilio's webhooks) with fields dropped, replaced or added."""
    form = dict(seed)
    for _ in range(draw(st.integers(1, max_changes))):
        op = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if op == "add" or not form:
            form[draw(st.sampled_from(["NumMedia", "MediaUrl0", "X", "CallDuration"]))] = draw(
                nasty_text
            )
            continue
        key = draw(st.sampled_from(sorted(form)))
        if op == "delete":
            del form[key]
        else:
            form[key] = draw(
                st.one_of(nasty_text, st.sampled_from([str(n) for n in ABSURD_NUMBERS]))
            )
    return form


def form_bytes(form: dict[str, str]) -> bytes:
    """Urlencoded as Twilio posts it (a lone surrogate goes out as its UTF-8 bytes' escape)."""
    return urlencode(form, encoding="utf-8", errors="surrogatepass").encode()


def budget(share: int) -> int:
    """Examples for one test: the profile's budget divided by ``share`` (the CI
    profile gives each cheap parser test its full 150, costly ones a fraction)."""
    return max(10, settings.default.max_examples // share)
