"""The content-addressed file store: attachments on disk under their SHA-256."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["file_path", "put_file"]


def file_path(root: Path, digest: str) -> Path:
    return Path(root) / digest[:2] / digest


def put_file(root: Path, data: bytes) -> str:
    """Store ``data`` and return its SHA-256 (hex). Written atomically: a crash
    leaves no half file under the final name, and the same bytes are stored once."""
    digest = hashlib.sha256(data).hexdigest()
    path = file_path(root, digest)
    if path.exists():
        return digest
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return digest
