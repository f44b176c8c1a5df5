"""Triage against the labelled set (tests/data/triage/messages.jsonl): the figures are
printed (run with -s to see them) and must hold: category accuracy ≥ 85 %, urgent
recall ≥ 90 %."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from threadline.core.model import Channel
from threadline.core.triage import classify

SET = Path(__file__).parent.parent / "data" / "triage" / "messages.jsonl"
_CHANNELS = {"voice", "email", "sms", "chat", "whatsapp", "messenger", "instagram", "telegram"}


def _load() -> list[dict[str, object]]:
    rows = [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines() if line]
    return rows


def _ratio(num: int, den: int) -> float:
    return num / den if den else 1.0


def test_the_labelled_set_is_large_and_varied_enough() -> None:
    rows = _load()
    assert len(rows) >= 300
    assert {r["channel"] for r in rows} == _CHANNELS
    assert set(Counter(r["lang"] for r in rows)) == {"en", "de", "es", "fr"}
    assert min(Counter(r["category"] for r in rows).values()) >= 30


def test_triage_holds_its_accuracy_on_the_labelled_set() -> None:
    rows = _load()
    right = Counter[str]()
    urgent = Counter[str]()  # tp, fp, fn
    sensitive = Counter[str]()
    for row in rows:
        got = classify(str(row["text"]), Channel(str(row["channel"])))
        right[str(row["lang"])] += got.category.value == row["category"]
        right["all"] += got.category.value == row["category"]
        for counts, said, truth in (
            (urgent, got.urgent, row["urgent"]),
            (sensitive, got.sensitive, row["sensitive"]),
        ):
            counts["tp" if said and truth else "fp" if said else "fn" if truth else "tn"] += 1
    per_lang = Counter(str(r["lang"]) for r in rows)
    category = right["all"] / len(rows)
    recall = _ratio(urgent["tp"], urgent["tp"] + urgent["fn"])
    precision = _ratio(urgent["tp"], urgent["tp"] + urgent["fp"])
    print(f"\ntriage on {len(rows)} labelled messages:")
    print(f"  category accuracy {category:.1%}", end="")
    print(" (" + ", ".join(f"{k} {right[k] / n:.0%}" for k, n in sorted(per_lang.items())) + ")")
    print(f"  urgent recall {recall:.1%}, precision {precision:.1%}")
    s_recall = _ratio(sensitive["tp"], sensitive["tp"] + sensitive["fn"])
    s_precision = _ratio(sensitive["tp"], sensitive["tp"] + sensitive["fp"])
    print(f"  sensitive recall {s_recall:.1%}, precision {s_precision:.1%}")
    assert category >= 0.85
    assert recall >= 0.90
