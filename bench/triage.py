"""Triage throughput on one core: core.triage.classify over the labelled set, repeated.

    python bench/triage.py [--rounds 30] [--no-pin]

Every inbound message is triaged inline, in the transaction that stores it, so its
cost is paid on the ingest path. The issue's target is 20,000 messages/s on one core
for triage and 200 rules together; triage alone gets half of that budget here
(≤ 25 µs a message, ≥ 40,000 messages/s), the rules the other half.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from _common import percentile

from threadline.core.model import Channel
from threadline.core.triage import DEFAULT_LEXICON, MAX_SCAN, classify

SET = Path(__file__).resolve().parent.parent / "tests" / "data" / "triage" / "messages.jsonl"
TARGET = 40_000  # messages/s for triage alone


def _messages() -> list[tuple[str, Channel]]:
    rows = [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines() if line]
    return [(r["text"], Channel(r["channel"])) for r in rows]


def _run(messages: list[tuple[str, Channel]], rounds: int) -> tuple[float, list[float]]:
    """Messages/s over ``rounds`` passes, and each message's µs in the last pass."""
    for text, channel in messages:  # warm-up: the lexicon is compiled at import
        classify(text, channel, DEFAULT_LEXICON)
    start = time.perf_counter()
    for _ in range(rounds):
        for text, channel in messages:
            classify(text, channel, DEFAULT_LEXICON)
    elapsed = time.perf_counter() - start
    each = []
    for text, channel in messages:
        t0 = time.perf_counter()
        classify(text, channel, DEFAULT_LEXICON)
        each.append((time.perf_counter() - t0) * 1e6)
    return rounds * len(messages) / elapsed, each


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=30, help="passes over the labelled set")
    parser.add_argument("--no-pin", action="store_true", help="do not pin to one CPU")
    args = parser.parse_args()
    cpus = os.cpu_count() or 0
    pinned = "not pinned"
    if not args.no_pin and hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        pinned = f"pinned to CPU {cpu}"
    print(f"CPUs: {cpus}, {pinned}; Python {platform.python_version()}, in-process")
    messages = _messages()
    lengths = sorted(len(t) for t, _ in messages)
    print(
        f"labelled set: {len(messages)} messages, {len(DEFAULT_LEXICON.labels)} + "
        f"{len(DEFAULT_LEXICON.prefixes)} prefix terms; text length median "
        f"{lengths[len(lengths) // 2]}, max {lengths[-1]} (at most {MAX_SCAN} read)"
    )
    rate, each = _run(messages, args.rounds)
    print(
        f"triage: {rate:,.0f} msgs/s on one core ({args.rounds} rounds), "
        f"{1e6 / rate:.1f} µs mean, p50 {percentile(each, 50):.1f} µs, "
        f"p99 {percentile(each, 99):.1f} µs, max {max(each):.1f} µs"
    )
    long_text = ("Hello, a question about my order and the invoice. " * 200)[: MAX_SCAN * 2]
    worst, _ = _run([(long_text, Channel.EMAIL)], 300)
    print(f"  a {len(long_text):,}-character email: {1e6 / worst:.0f} µs")
    met = "MET" if rate >= TARGET else "MISSED"
    print(f"  target: >= {TARGET:,} msgs/s (<= {1e6 / TARGET:.0f} µs a message): {met}")


if __name__ == "__main__":
    main()
