"""What the end-to-end benchmarks share besides the server and wrk: percentiles,
the printed lines, the stored-row checks and the py-spy summary. The benchmark
scripts import these as sibling modules (``from _common import ...``), since
Python puts the script's folder on sys.path."""

from __future__ import annotations

import os
import re
import sqlite3
import statistics
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

__all__ = [
    "NAN",
    "WORD",
    "percentile",
    "print_counts",
    "print_machine",
    "result_line",
    "stored_counts",
    "summarize_profile",
    "target_line",
]

# The benchmarks seed and query with this checkout's code, as the servers they start
# run it (PYTHONPATH), whichever checkout the venv's editable install points at.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

WORD = "benchword"  # in every message text, to count FTS rows
NAN = float("nan")


def percentile(
    values: Sequence[float], pct: int, method: Literal["exclusive", "inclusive"] = "exclusive"
) -> float:
    """The pct-th percentile (1..99) of at least two values, else NaN. "inclusive" never
    goes past the worst value (for a few dozen samples, where "exclusive" would)."""
    return statistics.quantiles(values, n=100, method=method)[pct - 1] if len(values) > 1 else NAN


# -- printed lines ----------------------------------------------------------------------
def result_line(
    label: str, rate: float, p50: float, p99: float, errors: str, stored: int, note: str
) -> str:
    """The one line per phase a reader looks for: 'API: N msgs/s, p50, p99, errors, stored'."""
    return (
        f"{label}: {rate:.0f} msgs/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms, {errors}, "
        f"stored {stored} ({note})"
    )


def target_line(rate: float, min_rate: int, p99: float = NAN, max_p99: float | None = None) -> str:
    met = rate >= min_rate and (max_p99 is None or p99 <= max_p99)
    latency = f" with p99 <= {max_p99:g} ms" if max_p99 is not None else ""
    return f"  target: >= {min_rate} msg/s{latency}: {'MET' if met else 'MISSED'}"


def print_machine(generators: str) -> None:
    cpus = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    print(
        f"CPUs: {cpus} ({usable} usable); the load generators ({generators}) share these "
        "cores with the server, so results are a lower bound."
    )
    print(f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}")


# -- verification -----------------------------------------------------------------------
def stored_counts(db: Path, channel: str, source: str | None = None) -> dict[str, int]:
    """Rows stored for one channel; ``source`` is the receipts' name for it, if different."""
    source = source or channel
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        q = lambda sql, *a: int(con.execute(sql, a).fetchone()[0])  # noqa: E731
        return {
            "messages": q("SELECT count(*) FROM messages WHERE channel = ?", channel),
            "receipts": q("SELECT count(*) FROM inbound_receipts WHERE source = ?", source),
            "processed": q(
                "SELECT count(*) FROM inbound_receipts WHERE source = ? AND status = 'processed'",
                source,
            ),
            "timeline": q(
                "SELECT count(*) FROM timeline_entries t JOIN messages m ON m.id = t.message_id "
                "WHERE t.kind = 'message' AND m.channel = ?",
                channel,
            ),
            "fts": q(
                "SELECT count(*) FROM message_fts f JOIN messages m ON m.id = f.rowid "
                f"WHERE message_fts MATCH '\"{WORD}\"' AND m.channel = ?",
                channel,
            ),
            "customers": q("SELECT count(*) FROM customers"),
            "conversations": q("SELECT count(*) FROM conversations"),
        }
    finally:
        con.close()


def print_counts(label: str, counts: dict[str, int], acked: int, slack: int) -> bool:
    """Stored rows next to what the load generator saw acknowledged; True if they agree."""
    print(
        f"  stored ({label}): messages {counts['messages']}, receipts {counts['receipts']} "
        f"(processed {counts['processed']}), timeline {counts['timeline']}, "
        f"fts {counts['fts']}  | customers {counts['customers']}, "
        f"conversations {counts['conversations']}"
    )
    same = len({counts["messages"], counts["processed"], counts["timeline"], counts["fts"]}) == 1
    diff = counts["messages"] - acked
    ok = same and 0 <= diff <= slack
    print(
        f"  acknowledged {acked}, stored {counts['messages']} (+{diff}; up to {slack} may be "
        f"requests in flight when the generator stopped): {'OK' if ok else 'MISMATCH'}"
    )
    return ok


# -- the profile ---------------------------------------------------------------------
def summarize_profile(raw: Path, top: int = 15, *, sampled: str = "busy threads") -> None:
    """py-spy's raw format: 'thread;frame;frame;… count' per line, root first."""
    self_t: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    per_thread: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        count = int(n)
        frames = stack.split(";")
        thread, frames = frames[0], frames[1:]
        total += count
        per_thread[re.sub(r"^thread \(\d+\):\s*", "", thread)] += count
        if frames:
            self_t[frames[-1]] += count
        for f in set(frames):
            incl[f] += count
    if not total:
        print("profile: no samples")
        return
    print(f"\n== profile ({total} samples of {sampled}; {raw.parent / 'profile.svg'})")
    for thread, n in per_thread.most_common(6):
        print(f"  thread {thread[:70]}: {100 * n / total:.1f}%")
    print("  top self time:")
    for f, n in self_t.most_common(top):
        print(f"    {100 * n / total:5.1f}%  {f[:110]}")
    print("  top inclusive (threadline code):")
    shown = 0
    for f, n in incl.most_common():
        if "threadline" in f:
            print(f"    {100 * n / total:5.1f}%  {f[:110]}")
            shown += 1
            if shown >= top:
                break
    grouped: defaultdict[str, int] = defaultdict(int)
    for f, n in self_t.items():
        m = re.search(r"\((?:.*/site-packages/|.*/lib/python3\.\d+/|.*/src/)?([^/]+)", f)
        grouped[m.group(1) if m else f] += n
    print("  self time by package:")
    for pkg, n in sorted(grouped.items(), key=lambda kv: -kv[1])[:12]:
        print(f"    {100 * n / total:5.1f}%  {pkg}")
