"""The content-addressed file store: attachments on disk under their SHA-256."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import IO

__all__ = ["file_path", "put_file", "put_stream", "read_stored"]


def file_path(root: Path, digest: str) -> Path:
    return Path(root) / digest[:2] / digest


def put_file(root: Path, data: bytes) -> str:
    """Store ``data`` and return its SHA-256 (hex). Written atomically: a crash
    leaves no half file under the final name, and the same bytes are stored once."""
    digest = hashlib.sha256(data).hexdigest()
    path = file_path(root, digest)
    if path.exists():
        return digest
    # Customers' files: readable by our own user only, like the data dir (private.py).
    Path(root).mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return digest


def read_stored(root: Path | None, digest: str) -> bytes:
    """A stored file's bytes; OSError when it is missing or there is no store."""
    if root is None:
        raise FileNotFoundError(f"no file store to read {digest} from")
    return file_path(root, digest).read_bytes()


def put_stream(root: Path, source: IO[bytes], chunk: int = 1024 * 1024) -> str:
    """``put_file`` for the bytes read from ``source`` to its end, hashed as they are
    copied: the whole never sits in memory."""
    Path(root).mkdir(mode=0o700, parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, name = tempfile.mkstemp(prefix=".incoming-", dir=root)  # mode 0600
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            while block := source.read(chunk):
                digest.update(block)
                f.write(block)
        hexdigest = digest.hexdigest()
        path = file_path(root, hexdigest)
        if not path.exists():
            path.parent.mkdir(mode=0o700, exist_ok=True)
            os.replace(tmp, path)
        return hexdigest
    finally:
        tmp.unlink(missing_ok=True)
