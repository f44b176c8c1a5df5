"""The chat widget's weight on the wire: widget.js as the package ships it (minified)
and gzipped, against the 30 KB gzipped budget every embedding page pays.

    python bench/widget_bundle.py

It reads the committed build, so it needs no Node; `make widget` rebuilds it.
"""

from __future__ import annotations

import gzip
from pathlib import Path

BUILT = Path(__file__).resolve().parent.parent / "src" / "threadline" / "web" / "static"
BUDGET = 30 * 1024  # gzipped bytes


def bundle_sizes() -> tuple[int, int]:
    """widget.js's bytes as shipped, and gzipped."""
    raw = (BUILT / "widget.js").read_bytes()
    return len(raw), len(gzip.compress(raw, compresslevel=9, mtime=0))


def main() -> None:
    size, packed = bundle_sizes()
    print(f"widget.js: {size:,} bytes minified, {packed:,} bytes gzipped")
    met = "MET" if packed <= BUDGET else "MISSED"
    print(f"  target: <= {BUDGET:,} bytes gzipped ({packed / BUDGET:.0%} of it): {met}")


if __name__ == "__main__":
    main()
