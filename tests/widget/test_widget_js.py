"""The chat widget's TypeScript (widget/): its unit tests under Node's own test runner,
the committed build (which the Python package ships) against a fresh build of the
sources, and its gzipped weight against the 30 KB budget.

The unit tests drive the protocol state machine (widget/src/protocol.ts) with a fake
of the server's side of docs/widget.md; the browser tests drive the real server."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "widget" / "build.mjs"
BUILT = ROOT / "src" / "threadline" / "web" / "static" / "widget.js"
BUDGET = 30 * 1024  # gzipped bytes
NODE = shutil.which("node")

needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed (.ci/run has it)")


def node(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert NODE is not None
    if not (ROOT / "node_modules" / "esbuild").is_dir():
        pytest.fail("esbuild is not installed: run `npm ci --ignore-scripts` (make does)")
    return subprocess.run(
        [NODE, *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


@needs_node
def test_widget_unit_tests_pass(tmp_path: Path) -> None:
    built = node(BUILD, "--tests", tmp_path)
    assert built.returncode == 0, built.stdout + built.stderr
    files = sorted(tmp_path.glob("*.test.mjs"))
    assert files, "no widget/test/*.test.ts found"
    run = node("--test", *files)
    assert run.returncode == 0, run.stdout + run.stderr


@needs_node
def test_committed_widget_js_is_a_fresh_build_of_its_sources(tmp_path: Path) -> None:
    fresh = tmp_path / "widget.js"
    built = node(BUILD, fresh)
    assert built.returncode == 0, built.stdout + built.stderr
    assert fresh.read_bytes() == BUILT.read_bytes(), (
        "src/threadline/web/static/widget.js differs from widget/src: run `make widget` "
        "and commit the result"
    )


def test_widget_js_fits_the_gzipped_budget() -> None:
    raw = BUILT.read_bytes()
    packed = len(gzip.compress(raw, compresslevel=9, mtime=0))
    print(f"widget.js: {len(raw)} bytes minified, {packed} bytes gzipped (budget {BUDGET})")
    assert packed <= BUDGET
