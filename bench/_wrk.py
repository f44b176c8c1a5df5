"""wrk for the end-to-end benchmarks: one run with a Lua script, its latency
figures parsed (plus what the script's done() prints), and its printed line."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from _common import NAN

__all__ = ["parse_wrk", "run_wrk", "wrk_line"]


def _ms(text: str) -> float:
    """wrk prints latencies as 812.00us, 3.21ms, 1.02s, 2.00m."""
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        return NAN
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(out: str) -> dict[str, float]:
    """wrk's own figures, plus the key=value pairs a Lua done() prints after 'BENCH'."""
    res: dict[str, float] = {}
    if m := re.search(r"Requests/sec:\s+([\d.]+)", out):
        res["rps"] = float(m.group(1))
    if m := re.search(r"(\d+) requests in ([\d.]+)(\w+),", out):
        res["requests"] = int(m.group(1))
    for pct in ("50", "75", "90", "99"):
        if m := re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", out, re.M):
            res[f"p{pct}"] = _ms(m.group(1))
    if m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out):
        res["non2xx"] = int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        res["socket_errors"] = sum(int(g) for g in m.groups())
    if m := re.search(r"^BENCH (.*)$", out, re.M):
        for key, value in re.findall(r"(\w+)=(\d+)", m.group(1)):
            res.setdefault(key, int(value))  # wrk's own count wins over the script's
    return res


def run_wrk(
    url: str,
    lua: Path,
    *,
    threads: int,
    connections: int,
    duration: float,
    script_args: Sequence[str] = (),
) -> tuple[dict[str, float], str]:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(lua),
        url,
        "--",
        *script_args,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=duration + 60)
    text = out.stdout + out.stderr
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed ({out.returncode}):\n{text}")
    return parse_wrk(text), text


def wrk_line(res: dict[str, float], duration: float, bad_label: str, bad: float) -> str:
    return (
        f"  wrk: {res.get('requests', 0):.0f} requests in {duration:g}s, latency p50 "
        f"{res.get('p50', NAN):.2f} ms, p75 {res.get('p75', NAN):.2f} ms, "
        f"p90 {res.get('p90', NAN):.2f} ms, p99 {res.get('p99', NAN):.2f} ms; "
        f"{bad_label} {bad:.0f}, socket errors {res.get('socket_errors', 0):.0f}"
    )
